// Package problem is the report a check produces: every problem found, each
// naming the file (and the JSON pointer inside it) it is about.
package problem

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Severity tells whether a problem fails the check.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Problem is one finding about one file.
type Problem struct {
	File     string   `json:"file"`
	Pointer  string   `json:"pointer,omitempty"` // JSON pointer inside File, "" for the file itself
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// String renders the problem as PATH[#/pointer]: message, with warnings marked.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(safePath(p.File))
	if p.Pointer != "" {
		b.WriteString("#")
		b.WriteString(p.Pointer)
	}
	b.WriteString(": ")
	if p.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// List collects problems. A List with at least one error is itself an error.
type List []Problem

// Add appends an error about file.
func (l *List) Add(file, pointer, format string, args ...any) {
	*l = append(*l, Problem{File: file, Pointer: pointer, Severity: Error, Message: fmt.Sprintf(format, args...)})
}

// Warn appends a warning about file.
func (l *List) Warn(file, pointer, format string, args ...any) {
	*l = append(*l, Problem{File: file, Pointer: pointer, Severity: Warning, Message: fmt.Sprintf(format, args...)})
}

// Sort orders the list by file, pointer, then message, and drops exact duplicates.
func (l List) Sort() List {
	slices.SortFunc(l, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			comparePointers(a.Pointer, b.Pointer),
			cmp.Compare(a.Severity, b.Severity),
			cmp.Compare(a.Message, b.Message))
	})
	return slices.Compact(l)
}

// comparePointers orders JSON pointers segment by segment, numbers numerically,
// so that /actions/2 sorts before /actions/10.
func comparePointers(a, b string) int {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		if len(as[i]) != len(bs[i]) && isNumber(as[i]) && isNumber(bs[i]) {
			return cmp.Compare(len(as[i]), len(bs[i]))
		}
		return cmp.Compare(as[i], bs[i])
	}
	return cmp.Compare(len(as), len(bs))
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Errors counts the problems that fail a check.
func (l List) Errors() int {
	n := 0
	for _, p := range l {
		if p.Severity == Error {
			n++
		}
	}
	return n
}

// Err returns the list as an error when it holds at least one error, else nil.
func (l List) Err() error {
	if l.Errors() == 0 {
		return nil
	}
	return l
}

func (l List) Error() string {
	lines := make([]string, len(l))
	for i, p := range l {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Format names an output format for a problem list.
type Format string

const (
	Text   Format = "text"
	JSON   Format = "json"
	GitHub Format = "github"
)

// Write prints the list in the given format: one line per problem (text),
// a JSON array, or GitHub Actions workflow commands.
func (l List) Write(w io.Writer, f Format) error {
	switch f {
	case JSON:
		out := l
		if out == nil {
			out = List{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	case GitHub:
		for _, p := range l {
			level := "error"
			if p.Severity == Warning {
				level = "warning"
			}
			msg := p.Message
			if p.Pointer != "" {
				msg = p.Pointer + ": " + msg
			}
			if _, err := fmt.Fprintf(w, "::%s file=%s::%s\n", level, escapeProperty(safePath(p.File)), escapeData(msg)); err != nil {
				return err
			}
		}
		return nil
	case Text, "":
		for _, p := range l {
			if _, err := fmt.Fprintln(w, p.String()); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown format %q (want text, json or github)", f)
}

// escapeData and escapeProperty follow the GitHub Actions workflow command
// encoding, so a message with a newline or a colon stays one annotation.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// safePath prints a path that a hostile tree named, as it is unless it holds
// something a terminal or a reader would take for more than a name: a
// control character (a newline would forge a second problem line, an escape
// sequence rewrite the screen), a Unicode format character (U+202E reverses
// the text) or invalid UTF-8. Such a path is quoted, Go-style, so every
// problem stays one honest line.
func safePath(path string) string {
	if !utf8.ValidString(path) || strings.ContainsFunc(path, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}) {
		return strconv.Quote(path)
	}
	return path
}
