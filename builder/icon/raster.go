package icon

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/srwiley/rasterx"
	"golang.org/x/image/math/fixed"
)

// scanner is the rasterx.Scanner that turns outlines into pixels. rasterx's
// own ScannerGV cannot fill evenodd (its SetWinding does nothing), and it
// composites every shape over the whole image in float32; this one follows
// the winding rule it is given, works only over a shape's bounding box, and
// computes coverage in integers from the 26.6 fixed-point outline, so the
// same outline gives the same pixels on every CPU.
//
// It is the cell-coverage method of FreeType and libart: each pixel cell
// gathers the signed height of the edges crossing it (cover) and that
// height weighted by where in the cell they cross (area); a sweep along the
// row turns them into the covered fraction of each pixel.
type scanner struct {
	dst         *image.RGBA
	w, h        int
	cover, area []int64 // (w+1) cells a row: the last gathers edges right of the image
	mask        *image.Alpha
	src         image.Image
	clip        image.Rectangle
	evenOdd     bool
	budget      int64 // pixels left to composite; below 0, Draw does nothing

	pen   fixed.Point26_6
	ext   fixed.Rectangle26_6 // extent of the points given, for gradients
	cells image.Rectangle     // cells touched
}

// One pixel is 64 units a side in 26.6 fixed point; a fully covered cell
// sums to full in the sweep.
const (
	unit = 64
	full = 2 * unit * unit
)

// newScanner returns a scanner drawing on dst, at most budget pixels.
func newScanner(dst *image.RGBA, budget int64) *scanner {
	w, h := dst.Bounds().Dx(), dst.Bounds().Dy()
	s := &scanner{dst: dst, w: w, h: h, mask: image.NewAlpha(dst.Bounds()), budget: budget}
	s.cover = make([]int64, (w+1)*h)
	s.area = make([]int64, (w+1)*h)
	s.Clear()
	return s
}

// SetBounds is part of rasterx.Scanner; the bounds are the image's.
func (s *scanner) SetBounds(w, h int) {}

// SetWinding chooses nonzero (true) or evenodd filling.
func (s *scanner) SetWinding(nonZero bool) { s.evenOdd = !nonZero }

// SetClip restricts drawing to rect; an empty rect clears the clip.
func (s *scanner) SetClip(rect image.Rectangle) { s.clip = rect }

// SetColor sets what is painted: a color.Color or a rasterx.ColorFunc
// (a gradient, in image coordinates).
func (s *scanner) SetColor(c interface{}) {
	switch c := c.(type) {
	case color.Color:
		s.src = image.NewUniform(c)
	case rasterx.ColorFunc:
		s.src = funcImage(c)
	}
}

// funcImage is a ColorFunc as an image.
type funcImage rasterx.ColorFunc

func (f funcImage) ColorModel() color.Model { return color.RGBAModel }
func (f funcImage) Bounds() image.Rectangle {
	return image.Rect(math.MinInt32, math.MinInt32, math.MaxInt32, math.MaxInt32)
}
func (f funcImage) At(x, y int) color.Color { return f(x, y) }

// GetPathExtent returns the extent of the points given since Clear.
func (s *scanner) GetPathExtent() fixed.Rectangle26_6 { return s.ext }

// Clear forgets the outline.
func (s *scanner) Clear() {
	for y := max(s.cells.Min.Y, 0); y < min(s.cells.Max.Y, s.h); y++ {
		row := y * (s.w + 1)
		clear(s.cover[row+s.cells.Min.X : row+s.cells.Max.X])
		clear(s.area[row+s.cells.Min.X : row+s.cells.Max.X])
	}
	s.cells = image.Rectangle{} // empty, grown by add
	const big = fixed.Int26_6(math.MaxInt32)
	s.ext = fixed.Rectangle26_6{Min: fixed.Point26_6{X: big, Y: big}, Max: fixed.Point26_6{X: -big, Y: -big}}
}

// Start moves the pen to a. Like ScannerGV, it closes nothing: rasterx
// closes fills itself, and a stroke's outline is closed as a whole.
func (s *scanner) Start(a fixed.Point26_6) {
	s.extend(a)
	s.pen = a
}

// Line adds an edge from the pen to b.
func (s *scanner) Line(b fixed.Point26_6) {
	s.extend(b)
	s.edge(s.pen, b)
	s.pen = b
}

// extend grows the extent to hold p.
func (s *scanner) extend(p fixed.Point26_6) {
	s.ext.Min.X, s.ext.Min.Y = min(s.ext.Min.X, p.X), min(s.ext.Min.Y, p.Y)
	s.ext.Max.X, s.ext.Max.Y = max(s.ext.Max.X, p.X), max(s.ext.Max.Y, p.Y)
}

// limit bounds coordinates (in 26.6 units, so 2^24 pixels) so that the
// products below fit in 64 bits. Nothing that far out is visible.
const limit = 1 << 30

// edge adds the edge a-b. It is cut where it crosses the image's left and
// right sides, so that clamping x then keeps its effect: a piece left of
// the image covers whole pixels of the rows it spans, one right of it none.
func (s *scanner) edge(a, b fixed.Point26_6) {
	c := func(v fixed.Int26_6) int64 { return min(max(int64(v), -limit), limit) }
	s.clippedEdge(c(a.X), c(a.Y), c(b.X), c(b.Y))
}

// clippedEdge cuts an edge at the image's sides, then adds it row by row.
func (s *scanner) clippedEdge(x0, y0, x1, y1 int64) {
	if y0 == y1 {
		return // a horizontal edge covers nothing
	}
	for _, side := range [2]int64{0, int64(s.w) * unit} {
		if (x0 < side && x1 > side) || (x0 > side && x1 < side) {
			y := y0 + (side-x0)*(y1-y0)/(x1-x0)
			s.clippedEdge(x0, y0, side, y)
			s.clippedEdge(side, y, x1, y1)
			return
		}
	}
	xmax := int64(s.w) * unit
	x0, x1 = min(max(x0, 0), xmax), min(max(x1, 0), xmax)
	sign := int64(1)
	if y0 > y1 {
		x0, y0, x1, y1, sign = x1, y1, x0, y0, -1
	}
	// Each row's crossing points are computed from the whole edge, so that
	// neighbouring rows agree on the x where the edge passes between them.
	xAt := func(y int64) int64 { return x0 + (y-y0)*(x1-x0)/(y1-y0) }
	for top := max(y0, 0) / unit * unit; top < min(y1, int64(s.h)*unit); top += unit {
		ya, yb := max(y0, top), min(y1, top+unit)
		s.rowEdge(int(top/unit), xAt(ya), ya-top, xAt(yb), yb-top, sign)
	}
}

// rowEdge adds an edge within one row, from (xa, ya) down to (xb, yb) with
// y in the row (0 to 64), cut where it passes from one cell to the next.
func (s *scanner) rowEdge(row int, xa, ya, xb, yb, sign int64) {
	step := int64(unit)
	if xb < xa {
		step = -unit
	}
	yAt := func(x int64) int64 { return ya + (x-xa)*(yb-ya)/(xb-xa) }
	x, y := xa, ya
	for {
		cell := cellOf(x, xb)
		next := cell*unit + unit // the cell's right side, or its left going left
		if step < 0 {
			next = cell * unit
		}
		if xa == xb || (step > 0 && next >= xb) || (step < 0 && next <= xb) {
			s.add(row, cell, x-cell*unit, xb-cell*unit, yb-y, sign)
			return
		}
		ny := yAt(next)
		s.add(row, cell, x-cell*unit, next-cell*unit, ny-y, sign)
		x, y = next, ny
	}
}

// cellOf is the cell of a piece of edge starting at x and heading to
// toward: on a cell boundary, the cell on the side it goes.
func cellOf(x, toward int64) int64 {
	c := x / unit
	if x%unit == 0 && toward < x {
		c--
	}
	return max(c, 0)
}

// add gathers a piece of edge in one cell: fx0 and fx1 are where it enters
// and leaves across the cell (0 to 64), dy its height.
func (s *scanner) add(row int, cell, fx0, fx1, dy, sign int64) {
	if dy == 0 {
		return
	}
	i := row*(s.w+1) + int(cell)
	s.cover[i] += sign * dy
	s.area[i] += sign * dy * (fx0 + fx1)
	s.cells = s.cells.Union(image.Rect(int(cell), row, int(cell)+1, row+1))
}

// Draw paints the outline gathered since Clear with the colour set.
func (s *scanner) Draw() {
	r := s.cells.Intersect(s.dst.Bounds())
	if s.clip.Dx() > 0 && s.clip.Dy() > 0 {
		r = r.Intersect(s.clip)
	}
	if r.Empty() || s.src == nil || s.budget < 0 {
		return
	}
	if s.budget -= int64(s.cells.Dy()) * int64(r.Max.X-s.cells.Min.X); s.budget < 0 {
		return
	}
	// The sweep starts at the leftmost cell touched, where the sum of
	// covers is still 0; cells right of r hold nothing to draw.
	for y := s.cells.Min.Y; y < s.cells.Max.Y; y++ {
		row := y * (s.w + 1)
		acc := int64(0)
		for x := s.cells.Min.X; x < r.Max.X; x++ {
			v := 2*unit*(acc+s.cover[row+x]) - s.area[row+x]
			acc += s.cover[row+x]
			s.mask.Pix[s.mask.PixOffset(x, y)] = s.alpha(v)
		}
	}
	draw.DrawMask(s.dst, r, s.src, r.Min, s.mask, r.Min, draw.Over)
}

// alpha turns a swept coverage into an 8-bit alpha by the winding rule.
func (s *scanner) alpha(v int64) uint8 {
	if v < 0 {
		v = -v
	}
	if s.evenOdd {
		v %= 2 * full
		if v > full {
			v = 2*full - v
		}
	}
	v = min(v, full)
	return uint8((v*255 + full/2) / full)
}
