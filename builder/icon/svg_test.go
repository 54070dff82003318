package icon

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"
)

const (
	halves = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50">
  <rect x="0" y="0" width="50" height="50" fill="red"/>
  <rect x="50" y="0" width="50" height="50" fill="blue"/>
</svg>`
	circle = `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">
  <circle cx="50" cy="50" r="20" fill="#00ff00"/>
</svg>`
)

var (
	red         = color.NRGBA{255, 0, 0, 255}
	blue        = color.NRGBA{0, 0, 255, 255}
	green       = color.NRGBA{0, 255, 0, 255}
	black       = color.NRGBA{0, 0, 0, 255}
	transparent = color.NRGBA{}
)

// rasterized converts an SVG at size and decodes the PNG.
func rasterized(t *testing.T, svg string, size int) image.Image {
	t.Helper()
	out, err := PNG("icon.svg", []byte(svg), size)
	if err != nil {
		t.Fatal(err)
	}
	return decodePNG(t, out)
}

// expect checks pixels of img.
func expect(t *testing.T, img image.Image, want map[image.Point]color.NRGBA) {
	t.Helper()
	for p, c := range want {
		if got := nrgba(img, p.X, p.Y); got != c {
			t.Errorf("pixel %v is %v, want %v", p, got, c)
		}
	}
}

func TestSVGHalvesAtSize(t *testing.T) {
	img := rasterized(t, halves, 256)
	if img.Bounds() != image.Rect(0, 0, 256, 128) {
		t.Fatalf("bounds %v, want 256x128 (viewBox 100x50, longer side 256)", img.Bounds())
	}
	want := map[image.Point]color.NRGBA{}
	for _, y := range []int{0, 64, 127} {
		for _, x := range []int{0, 60, 126} {
			want[image.Pt(x, y)] = red
			want[image.Pt(255-x, y)] = blue
		}
	}
	expect(t, img, want)
}

func TestSVGSizeFollowsTheLongerSide(t *testing.T) {
	cases := []struct {
		svg  string
		size int
		want image.Point
	}{
		{halves, 64, image.Pt(64, 32)},
		{`<svg xmlns="http://www.w3.org/2000/svg" width="30px" height="60px"/>`, 256, image.Pt(128, 256)},
		{`<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%" viewBox="0 0 3 1"/>`, 300, image.Pt(300, 100)},
		{`<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="1" />`, 256, image.Pt(256, 1)},
	}
	for _, c := range cases {
		if got := rasterized(t, c.svg, c.size).Bounds().Size(); got != c.want {
			t.Errorf("%s at %d: size %v, want %v", c.svg, c.size, got, c.want)
		}
	}
	for _, size := range []int{0, -1, MaxSide + 1} {
		if _, err := PNG("icon.svg", []byte(halves), size); err == nil {
			t.Errorf("size %d was accepted", size)
		}
	}
}

func TestSVGBackgroundIsTransparent(t *testing.T) {
	img := rasterized(t, circle, 256)
	expect(t, img, map[image.Point]color.NRGBA{
		{128, 128}: green, {128, 90}: green, // inside r=20 (51px)
		{0, 0}: transparent, {255, 255}: transparent, {128, 30}: transparent, {200, 200}: transparent,
	})
	// The circle's edge is antialiased: partly transparent, still green.
	if c := nrgba(img, 128+51, 128); c.A == 0 && nrgba(img, 128+52, 128).A == 0 || c.R != 0 || c.B != 0 {
		t.Errorf("edge pixel %v", c)
	}
}

func TestSVGWithTitleAndEditorData(t *testing.T) {
	svg := `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
     xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dc="http://purl.org/dc/elements/1.1/"
     width="20" height="20" version="1.1" inkscape:version="1.2">
  <title>An icon</title>
  <desc>Its description</desc>
  <metadata><rdf:RDF><dc:title>An icon</dc:title><rect width="20" height="20" fill="blue"/></rdf:RDF></metadata>
  <sodipodi:namedview pagecolor="#ffffff" inkscape:zoom="8"><inkscape:grid type="xygrid"/></sodipodi:namedview>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer">
    <svg:rect width="10" height="20" style="fill:#ff0000;stroke:none" inkscape:label="left"/>
  </g>
</svg>`
	img := rasterized(t, svg, 20)
	expect(t, img, map[image.Point]color.NRGBA{{5, 10}: red, {15, 10}: transparent})
}

func TestSVGInkscapeGradient(t *testing.T) {
	// Inkscape keeps stops in one gradient, coordinates in another that
	// links to it, and writes stop colours in style attributes.
	svg := `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="10">
  <rect width="100" height="10" style="fill:url(#b)"/>
  <defs>
    <linearGradient id="a"><stop offset="0" style="stop-color:#ff0000;stop-opacity:1"/><stop offset="1" style="stop-color:#0000ff"/></linearGradient>
    <linearGradient id="b" xlink:href="#a" x1="0" y1="0" x2="100%" y2="0" gradientUnits="userSpaceOnUse"/>
  </defs>
</svg>`
	img := rasterized(t, svg, 100)
	left, mid, right := nrgba(img, 1, 5), nrgba(img, 50, 5), nrgba(img, 98, 5)
	if left.R < 240 || left.B > 15 || right.B < 240 || right.R > 15 || mid.R < 100 || mid.B < 100 || mid.A != 255 {
		t.Errorf("gradient left %v, middle %v, right %v: want red to blue", left, mid, right)
	}
}

func TestSVGStylesAsInBrowsers(t *testing.T) {
	cases := map[string]struct {
		body string
		want map[image.Point]color.NRGBA
	}{
		"class rules, in CDATA, after their use": {
			`<rect class="a b" width="10" height="10"/><style><![CDATA[ /* x */ .a { fill: blue } .b{fill:red} ]]></style>`,
			map[image.Point]color.NRGBA{{5, 5}: red},
		},
		"style attribute beats class beats attribute": {
			`<style>.a{fill:blue}</style><rect class="a" fill="green" style="fill:red" width="10" height="10"/><rect class="a" fill="green" x="10" width="10" height="10"/>`,
			map[image.Point]color.NRGBA{{5, 5}: red, {15, 5}: blue},
		},
		"currentColor": {
			`<g color="red"><rect width="10" height="10" fill="currentColor"/></g>`,
			map[image.Point]color.NRGBA{{5, 5}: red},
		},
		"transparent and display none": {
			`<rect width="10" height="10" fill="transparent"/><rect x="10" width="10" height="10" style="display:none"/>`,
			map[image.Point]color.NRGBA{{5, 5}: transparent, {15, 5}: transparent},
		},
		"scale with one factor": {
			`<rect width="5" height="5" fill="red" transform="scale(2)"/>`,
			map[image.Point]color.NRGBA{{8, 8}: red, {12, 12}: transparent},
		},
		"polyline of two points": {
			`<polyline points="0,15 20,15" stroke="blue" stroke-width="4"/>`,
			map[image.Point]color.NRGBA{{10, 15}: blue, {10, 10}: transparent},
		},
		"default stroke width is 1": {
			`<line x1="0" y1="10.5" x2="20" y2="10.5" stroke="black"/>`,
			map[image.Point]color.NRGBA{{10, 10}: black, {10, 9}: transparent, {10, 11}: transparent},
		},
		"use of a defs group": {
			`<defs><g id="sq"><rect width="5" height="5"/></g></defs><use href="#sq" x="10" fill="red"/>`,
			map[image.Point]color.NRGBA{{12, 2}: red, {2, 2}: transparent},
		},
		"rx alone rounds both ways": {
			`<rect width="20" height="20" rx="10" fill="red"/>`,
			map[image.Point]color.NRGBA{{10, 10}: red, {0, 0}: transparent, {1, 19}: transparent},
		},
		"evenodd everywhere": {
			`<path fill-rule="evenodd" fill="red" d="M0 0H20V20H0Z M5 5H15V15H5Z"/>`,
			map[image.Point]color.NRGBA{{2, 2}: red, {10, 10}: transparent},
		},
		"nonzero everywhere": {
			`<path fill="red" d="M0 0H20V20H0Z M5 5H15V15H5Z"/>`,
			map[image.Point]color.NRGBA{{2, 2}: red, {10, 10}: red},
		},
		"frame clip covering the image": {
			`<g clip-path="url(#c)"><rect width="20" height="20" fill="red"/></g><defs><clipPath id="c"><rect width="20" height="20"/></clipPath></defs>`,
			map[image.Point]color.NRGBA{{10, 10}: red},
		},
		"mixed fill rules, each drawn by its own": {
			`<g fill-rule="evenodd"><path fill="red" d="M0 0H10V10H0Z M3 3H7V7H3Z"/><path fill-rule="nonzero" fill="blue" d="M10 0H20V10H10Z M13 3H17V7H13Z"/></g>` +
				`<style>.eo{fill-rule:evenodd}</style><defs><path id="sq" d="M0 10H10V20H0Z M3 13H7V17H3Z"/></defs><use class="eo" href="#sq" fill="red"/><use href="#sq" x="10" fill="blue"/>`,
			map[image.Point]color.NRGBA{{1, 1}: red, {5, 5}: transparent, {11, 1}: blue, {15, 5}: blue, {1, 11}: red, {5, 15}: transparent, {11, 11}: blue, {15, 15}: blue},
		},
		"mixed fill rules where they agree": {
			`<path fill-rule="evenodd" fill="red" d="M0 0H5V5H0Z"/><rect x="10" width="5" height="5" fill="blue"/>`,
			map[image.Point]color.NRGBA{{2, 2}: red, {12, 2}: blue},
		},
	}
	for name, c := range cases {
		svg := `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">` + c.body + `</svg>`
		out, err := PNG("icon.svg", []byte(svg), 20)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		img := decodePNG(t, out)
		for p, want := range c.want {
			if got := nrgba(img, p.X, p.Y); got != want {
				t.Errorf("%s: pixel %v is %v, want %v", name, p, got, want)
			}
		}
	}
}

func TestSVGWhatWouldBeDrawnWrongIsRefused(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"text":                {`<text x="1" y="10">Hi</text>`, "<text> element"},
		"image":               {`<image href="data:image/png;base64,AAAA" width="5" height="5"/>`, "<image> element"},
		"nested svg":          {`<svg width="5" height="5"/>`, "<svg> element"},
		"symbol":              {`<symbol id="s"/>`, "<symbol> element"},
		"filter property":     {`<rect width="5" height="5" style="filter:blur(2px)"/>`, "filter: blur(2px) is not supported"},
		"hidden":              {`<rect width="5" height="5" visibility="hidden"/>`, "visibility"},
		"percent geometry":    {`<rect width="100%" height="5"/>`, `width="100%"`},
		"mm geometry":         {`<circle r="2mm"/>`, `r="2mm"`},
		"negative size":       {`<rect width="-5" height="5"/>`, "negative"},
		"bad path":            {`<path d="M0 0 L5"/>`, "path data"},
		"unknown command":     {`<path d="M0 0 X5 5"/>`, "path data"},
		"huge path number":    {`<path d="M0 0 L123456789 5"/>`, "at most"},
		"bad colour":          {`<rect width="5" height="5" fill="rgba(0,0,0,0.5)"/>`, "cannot read"},
		"bad transform":       {`<rect width="5" height="5" transform="rotate(1 2)"/>`, "rotate() takes"},
		"element selector":    {`<style>rect { fill: red }</style>`, `selector "rect"`},
		"important":           {`<rect width="5" height="5" style="fill:red !important"/>`, "!important"},
		"use in defs":         {`<defs><use href="#x"/></defs>`, "<use> inside <defs>"},
		"use of nothing":      {`<use href="#nope"/>`, "#nope"},
		"partial clip":        {`<g clip-path="url(#c)"/><clipPath id="c"><rect width="5" height="5"/></clipPath>`, "does not cover"},
		"circular clip":       {`<g clip-path="url(#c)"/><clipPath id="c"><circle r="5"/></clipPath>`, "cannot clip"},
		"use rule conflict":   {`<defs><path id="p" fill-rule="nonzero" d="M0 0H9V9H0Z"/></defs><use href="#p" fill-rule="evenodd"/>`, "fill-rule"},
		"gradient no stops":   {`<linearGradient id="g"/><rect width="5" height="5" fill="url(#g)"/>`, "no stops"},
		"gradient loop":       {`<linearGradient id="g" href="#g"/><rect width="5" height="5" fill="url(#g)"/>`, "circular"},
		"currentColor stop":   {`<linearGradient id="g"><stop stop-color="currentColor"/></linearGradient><rect width="5" height="5" fill="url(#g)"/>`, "currentColor"},
		"animation":           {`<rect width="5" height="5"><animate attributeName="x" to="5"/></rect>`, "<animate> element"},
		"too many shapes":     {strings.Repeat(`<rect width="1" height="1"/>`, 10001), "over the limit of 10000"},
		"too much work":       {strings.Repeat(`<rect width="20" height="20"/>`, 2000), "too complex"},
		"bad aspect":          {``, "preserveAspectRatio"},
		"fill-rule value":     {`<rect width="5" height="5" fill-rule="odd"/>`, "fill-rule"},
		"stroke-width em":     {`<rect width="5" height="5" stroke-width="1em"/>`, "stroke-width"},
		"points odd":          {`<polygon points="1 2 3"/>`, "pairs"},
		"declaration garbage": {`<rect width="5" height="5" style="fill"/>`, "not a name: value"},
	}
	for name, c := range cases {
		root := `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">`
		if name == "bad aspect" {
			root = `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" preserveAspectRatio="middle">`
		}
		_, err := PNG("icon.svg", []byte(root+c.body+`</svg>`), 256)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "icon.svg: ") {
			t.Errorf("%s: got %v, want an error with %q", name, err, c.want)
		}
	}
}

func TestSVGStrokesScaleWithTheImage(t *testing.T) {
	// Ten units to 100 pixels: a 1-unit stroke is 10 pixels wide, and one
	// of 2 units under scale(0.5) is too.
	img := rasterized(t, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">
  <line x1="0" y1="5" x2="10" y2="5" stroke="red"/>
  <g transform="scale(0.5)"><line x1="0" y1="16" x2="20" y2="16" stroke="blue" stroke-width="2" stroke-dasharray="4 4"/></g>
</svg>`, 100)
	expect(t, img, map[image.Point]color.NRGBA{
		{50, 46}: red, {50, 54}: red, {50, 44}: transparent, {50, 56}: transparent,
		{10, 76}: blue, {10, 84}: blue, {10, 74}: transparent, {10, 86}: transparent,
		{30, 80}: transparent, // the dash pattern is scaled too: 20 pixels on, 20 off
		{50, 80}: blue,
	})
}

func TestSVGPreserveAspectRatio(t *testing.T) {
	// A 2:1 viewBox on a square image: centred by default, stretched with none.
	body := `<rect width="20" height="10" fill="red"/></svg>`
	mid := rasterized(t, `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 10">`+body, 20)
	expect(t, mid, map[image.Point]color.NRGBA{{10, 2}: transparent, {10, 10}: red, {10, 17}: transparent})
	top := rasterized(t, `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 10" preserveAspectRatio="xMinYMin meet">`+body, 20)
	expect(t, top, map[image.Point]color.NRGBA{{10, 2}: red, {10, 17}: transparent})
	none := rasterized(t, `<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 10" preserveAspectRatio="none">`+body, 20)
	expect(t, none, map[image.Point]color.NRGBA{{10, 1}: red, {10, 18}: red})
}

// designTools are icons as design tools and icon sets write them.
var designTools = map[string]string{
	"material": `<svg xmlns="http://www.w3.org/2000/svg" height="24px" viewBox="0 0 24 24" width="24px" fill="#000000"><path d="M0 0h24v24H0z" fill="none"/><path d="M19 3H5c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h14c1.1 0 2-.9 2-2V5c0-1.1-.9-2-2-2zm-7 14l-5-5 1.41-1.41L12 14.17l7.59-7.59L21 8l-9 9z"/></svg>`,
	"feather":  `<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" class="feather feather-database"><ellipse cx="12" cy="5" rx="9" ry="3"></ellipse><path d="M21 12c0 1.66-4 3-9 3s-9-1.34-9-3"></path><path d="M3 5v14c0 1.66 4 3 9 3s9-1.34 9-3V5"></path></svg>`,
	"figma": `<svg width="64" height="64" viewBox="0 0 64 64" fill="none" xmlns="http://www.w3.org/2000/svg">
<g clip-path="url(#clip0_12_34)">
<rect width="64" height="64" rx="12" fill="#1A73E8"/>
<path fill-rule="evenodd" clip-rule="evenodd" d="M16 16H48V48H16V16ZM24 24V40H40V24H24Z" fill="white"/>
</g>
<defs>
<clipPath id="clip0_12_34">
<rect width="64" height="64" fill="white"/>
</clipPath>
</defs>
</svg>`,
	"illustrator": `<?xml version="1.0" encoding="utf-8"?>
<!-- Generator: Adobe Illustrator 24.0.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  -->
<svg version="1.1" id="Layer_1" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" x="0px" y="0px"
	 viewBox="0 0 100 100" style="enable-background:new 0 0 100 100;" xml:space="preserve">
<style type="text/css">
	.st0{fill:#E94E1B;}
	.st1{fill:#FFFFFF;stroke:#000000;stroke-width:2;stroke-miterlimit:10;}
</style>
<circle class="st0" cx="50" cy="50" r="45"/>
<polygon class="st1" points="30,70 50,25 70,70 "/>
</svg>`,
	"svgo arcs": `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 2a10 10 0 110 20 10 10 0 010-20z"/></svg>`,
	"inkscape": `<svg xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:cc="http://creativecommons.org/ns#" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:svg="http://www.w3.org/2000/svg" xmlns="http://www.w3.org/2000/svg" xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" width="48" height="48" viewBox="0 0 12.7 12.7" version="1.1" id="svg8" inkscape:version="0.92.4" sodipodi:docname="icon.svg">
  <defs id="defs2" />
  <sodipodi:namedview id="base" pagecolor="#ffffff" bordercolor="#666666" borderopacity="1.0" inkscape:pageopacity="0.0" inkscape:zoom="11.2" inkscape:cx="24" inkscape:cy="24" inkscape:document-units="mm" inkscape:current-layer="layer1" showgrid="false" units="px" />
  <metadata id="metadata5"><rdf:RDF><cc:Work rdf:about=""><dc:format>image/svg+xml</dc:format><dc:type rdf:resource="http://purl.org/dc/dcmitype/StillImage" /><dc:title></dc:title></cc:Work></rdf:RDF></metadata>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1" transform="translate(0,-284.3)">
    <rect style="opacity:1;fill:#0000ff;fill-opacity:1;stroke:none;stroke-width:0.26458332;stroke-miterlimit:4;stroke-dasharray:none;stroke-opacity:1" id="rect10" width="10" height="10" x="1.35" y="285.65" ry="1.5" />
    <path style="fill:none;stroke:#ffffff;stroke-width:0.5;stroke-linecap:butt;stroke-linejoin:miter;stroke-opacity:1" d="m 3,290.3 h 6.7" id="path12" inkscape:connector-curvature="0" sodipodi:nodetypes="cc" />
  </g>
</svg>`,
}

func TestConcurrentConversionsAgree(t *testing.T) {
	// The builder may convert icons in parallel: nothing may be shared.
	want := map[string][]byte{}
	for name, svg := range designTools {
		out, err := PNG("icon.svg", []byte(svg), 256)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = out
	}
	errs := make(chan error, 4*len(designTools))
	for range 4 {
		for name, svg := range designTools {
			go func() {
				out, err := PNG("icon.svg", []byte(svg), 256)
				if err == nil && !bytes.Equal(out, want[name]) {
					err = fmt.Errorf("%s: a concurrent conversion gave other bytes", name)
				}
				errs <- err
			}()
		}
	}
	for range 4 * len(designTools) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestSVGFromDesignTools(t *testing.T) {
	orange, figmaBlue, white := color.NRGBA{0xe9, 0x4e, 0x1b, 255}, color.NRGBA{0x1a, 0x73, 0xe8, 255}, color.NRGBA{255, 255, 255, 255}
	want := map[string]map[image.Point]color.NRGBA{
		// 24 units to 256 pixels: a unit is 10.67 pixels.
		"material":  {{43, 128}: black, {5, 5}: transparent, {128, 5}: transparent},
		"feather":   {{128, 21}: black, {128, 107}: transparent, {5, 128}: transparent},
		"svgo arcs": {{128, 128}: black, {128, 30}: black, {10, 10}: transparent},
		// 64 units to 256 pixels; the frame clip is left out, the evenodd
		// hole shows the rectangle under it.
		"figma": {{0, 0}: transparent, {80, 80}: white, {128, 128}: figmaBlue, {128, 10}: figmaBlue},
		// 100 units to 256 pixels.
		"illustrator": {{128, 26}: orange, {128, 141}: white, {2, 2}: transparent},
		// 12.7 units (mm) to 256 pixels, drawn in a translated layer.
		"inkscape": {{60, 60}: {0, 0, 255, 255}, {128, 121}: white, {128, 20}: transparent},
	}
	for name, svg := range designTools {
		out, err := PNG("icon.svg", []byte(svg), 256)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		img := decodePNG(t, out)
		for p, c := range want[name] {
			if got := nrgba(img, p.X, p.Y); got != c {
				t.Errorf("%s: pixel %v is %v, want %v", name, p, got, c)
			}
		}
	}
}

// FuzzPNG checks that no input makes PNG panic, and that what it returns
// is a PNG. Its seeds run with the tests; go test -fuzz=FuzzPNG explores.
func FuzzPNG(f *testing.F) {
	f.Add([]byte(halves), 64)
	f.Add([]byte(circle), 31)
	for _, svg := range designTools {
		f.Add([]byte(svg), 48)
	}
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		size = 1 + (size&0x7fffffff)%128
		out, err := PNG("icon.svg", data, size)
		if err != nil {
			return
		}
		img := decodePNG(t, out)
		if sniff(data) == "svg" && max(img.Bounds().Dx(), img.Bounds().Dy()) != size {
			t.Fatalf("size %v, want a longer side of %d", img.Bounds().Size(), size)
		}
	})
}
