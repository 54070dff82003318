// Package schema holds the rules of a package spec: the JSON Schema
// (embedded, and published with every tree), the CDAP version grammar, the
// interval ranges of cdapVersion, and the checks a schema cannot express.
package schema

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/market-dev/market/schema/problem"
)

// SpecSchema is the JSON Schema 2020-12 document for spec.json version 1.0.
//
//go:embed spec-1.0.json
var SpecSchema []byte

// SpecSchemaName is the file name the schema is published under.
const SpecSchemaName = "spec-1.0.json"

// MaxSpecSize is the largest spec.json accepted, in bytes. Real specs are a
// few kilobytes; anything near this limit is a mistake or an attack.
const MaxSpecSize = 256 << 10

// MaxJSONDepth is the deepest nesting of arrays and objects accepted in a
// spec.json. A valid spec nests five levels at most.
const MaxJSONDepth = 32

// EarliestCreated is the earliest plausible `created` time: 2000-01-01 UTC.
const EarliestCreated = 946684800

// Spec is a parsed spec.json.
type Spec struct {
	Schema      string       `json:"$schema,omitempty"`
	SpecVersion string       `json:"specVersion"`
	Label       string       `json:"label"`
	Description string       `json:"description"`
	Author      string       `json:"author"`
	Org         string       `json:"org"`
	Created     int64        `json:"created"`
	Categories  []string     `json:"categories"`
	CDAPVersion string       `json:"cdapVersion,omitempty"`
	License     string       `json:"license,omitempty"`
	LicenseInfo *LicenseInfo `json:"licenseInfo,omitempty"`
	Beta        bool         `json:"beta,omitempty"`
	Preview     bool         `json:"preview,omitempty"`
	PaidLink    string       `json:"paidLink,omitempty"`
	Deprecated  string       `json:"deprecated,omitempty"`
	Actions     []Action     `json:"actions"`

	// Range is CDAPVersion parsed; nil when the spec has none (any product version).
	Range *Range `json:"-"`
}

// LicenseInfo names a license and where to read it.
type LicenseInfo struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Action is one step a product performs to install the package.
type Action struct {
	Type      string     `json:"type"`
	Label     string     `json:"label,omitempty"`
	Arguments []Argument `json:"arguments"`
}

// Argument is a named action argument; its value's type depends on the name.
type Argument struct {
	Name      string          `json:"name"`
	Value     json.RawMessage `json:"value"`
	CanModify *bool           `json:"canModify,omitempty"`
}

// FileArguments are the argument names whose values name files of the version folder.
var FileArguments = []string{"jar", "config", "files", "loadfiles"}

// requiredArguments lists, per action type, the arguments the CDAP UI needs.
var requiredArguments = map[string][]string{
	"one_step_deploy_plugin": {"name", "version", "scope", "config", "jar"},
	"create_plugin_artifact": {"name", "version", "scope", "config", "jar"},
	"create_driver_artifact": {"name", "version", "scope", "config"},
	"one_step_deploy_app":    {"jar"},
	"deploy_app":             {"jar"},
	"create_pipeline":        {"name", "artifact", "config"},
	"create_pipeline_draft":  {"name", "artifact", "config"},
	"load_datapack":          {"files"},
	"create_stream":          {"name"},
	"informational":          {"steps"},
}

// FileRef is a file named by an action argument, with the JSON pointer of the name.
type FileRef struct {
	Name    string
	Pointer string
}

// Files returns every file the spec's actions name, in spec order.
func (s *Spec) Files() []FileRef {
	var refs []FileRef
	for i, a := range s.Actions {
		for j, arg := range a.Arguments {
			if !slices.Contains(FileArguments, arg.Name) {
				continue
			}
			ptr := fmt.Sprintf("/actions/%d/arguments/%d/value", i, j)
			var one string
			var many []string
			if json.Unmarshal(arg.Value, &one) == nil {
				refs = append(refs, FileRef{one, ptr})
			} else if json.Unmarshal(arg.Value, &many) == nil {
				for k, f := range many {
					refs = append(refs, FileRef{f, fmt.Sprintf("%s/%d", ptr, k)})
				}
			}
		}
	}
	return refs
}

// VersionArguments returns the values of `version` arguments, keyed by pointer.
func (s *Spec) VersionArguments() []FileRef {
	var refs []FileRef
	for i, a := range s.Actions {
		for j, arg := range a.Arguments {
			var v string
			if arg.Name == "version" && json.Unmarshal(arg.Value, &v) == nil {
				refs = append(refs, FileRef{v, fmt.Sprintf("/actions/%d/arguments/%d/value", i, j)})
			}
		}
	}
	return refs
}

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	printer     = message.NewPrinter(language.English)
)

func specSchema() *jsonschema.Schema {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SpecSchema))
		if err != nil {
			panic("schema: embedded spec schema: " + err.Error())
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(SpecSchemaName, doc); err != nil {
			panic("schema: embedded spec schema: " + err.Error())
		}
		compiled = c.MustCompile(SpecSchemaName)
	})
	return compiled
}

// Parse checks spec.json bytes against every rule that needs nothing but the
// spec itself, and returns the spec (as much of it as could be read) with all
// problems found, each naming file and a JSON pointer. now bounds `created`.
func Parse(file string, data []byte, now time.Time) (*Spec, problem.List) {
	return parse(file, data, now, false)
}

// ParseChecked is Parse for bytes that already passed Parse's structural
// checks (size, encoding, syntax, duplicate keys, nesting, the JSON Schema)
// under the same Rules, as a previous build records by their SHA-256: only
// the checks that look at meaning run again. Those are most of Parse's cost.
func ParseChecked(file string, data []byte, now time.Time) (*Spec, problem.List) {
	return parse(file, data, now, true)
}

// RulesVersion changes whenever Parse's structural checks may judge the same
// bytes differently, so that ParseChecked is only used under the rules that
// passed them.
const RulesVersion = 1

// Rules identifies the structural checks: RulesVersion and the schema.
func Rules() string {
	sum := sha256.Sum256(SpecSchema)
	return fmt.Sprintf("%d-%x", RulesVersion, sum[:8])
}

func parse(file string, data []byte, now time.Time, checked bool) (*Spec, problem.List) {
	var probs problem.List
	var spec Spec
	if checked {
		if err := json.Unmarshal(data, &spec); err != nil {
			probs.Add(file, "", "is not JSON: %v", err) // not the bytes that were checked
			return nil, probs
		}
		spec.check(file, now, &probs)
		return &spec, probs
	}
	if len(data) > MaxSpecSize {
		probs.Add(file, "", "is %d bytes, over the %d-byte limit (MaxSpecSize)", len(data), MaxSpecSize)
		return nil, probs
	}
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		probs.Add(file, "", "starts with a UTF-8 byte order mark (BOM); save it as UTF-8 without BOM")
		return nil, probs
	}
	if !utf8.Valid(data) {
		probs.Add(file, "", "is not valid UTF-8 (at byte %d)", invalidUTF8At(data))
		return nil, probs
	}
	if p := scan(file, data); len(p) > 0 {
		return nil, p
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		probs.Add(file, "", "is not JSON: %v", err)
		return nil, probs
	}
	if err := specSchema().Validate(doc); err != nil {
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			probs.Add(file, "", "%v", err)
			return nil, probs
		}
		schemaProblems(file, ve, &probs)
	}
	if _, isObject := doc.(map[string]any); !isObject {
		return nil, probs
	}
	// The schema reports type mismatches; a number it calls an integer
	// that is no int64 (1.6e9, 1e30) is reported here.
	if err := json.Unmarshal(data, &spec); err != nil && probs.Errors() == 0 {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "created" {
			probs.Add(file, "/created", "%s is not a whole number of Unix seconds; write it without a fraction or exponent", te.Value)
		} else {
			probs.Add(file, "", "cannot be read: %v", err)
		}
	}
	spec.check(file, now, &probs)
	return &spec, probs
}

func (s *Spec) check(file string, now time.Time, probs *problem.List) {
	if s.CDAPVersion != "" {
		r, err := ParseCDAPRange(s.CDAPVersion)
		if err != nil {
			probs.Add(file, "/cdapVersion", "%v", err)
		} else {
			s.Range = &r
		}
	}
	switch latest := now.Add(24 * time.Hour).Unix(); {
	case s.Created == 0 && probs.Errors() > 0:
		// missing or mistyped: said already
	case s.Created > latest*100:
		probs.Add(file, "/created", "%d is not Unix seconds (milliseconds?): %s is in the future", s.Created, time.Unix(s.Created, 0).UTC().Format("2006-01-02"))
	case s.Created > latest:
		probs.Add(file, "/created", "%d is in the future (%s); use the Unix time in seconds when the version was made", s.Created, time.Unix(s.Created, 0).UTC().Format(time.RFC3339))
	case s.Created < EarliestCreated:
		probs.Add(file, "/created", "%d is before 2000-01-01; use the Unix time in seconds when the version was made", s.Created)
	}
	for i, a := range s.Actions {
		seen := map[string]bool{}
		for j, arg := range a.Arguments {
			if seen[arg.Name] {
				probs.Add(file, fmt.Sprintf("/actions/%d/arguments/%d/name", i, j), "argument %q appears twice in this action", arg.Name)
			}
			seen[arg.Name] = true
			if arg.Name == "artifact" {
				var art struct{ Version string }
				if json.Unmarshal(arg.Value, &art) == nil && art.Version != "" {
					checkArtifactVersion(file, fmt.Sprintf("/actions/%d/arguments/%d/value/version", i, j), art.Version, probs)
				}
			}
		}
		for _, want := range requiredArguments[a.Type] {
			if !seen[want] {
				probs.Add(file, fmt.Sprintf("/actions/%d/arguments", i), "action %s needs an argument named %q", a.Type, want)
			}
		}
	}
	for _, f := range s.Files() {
		if msg := CheckFileName(f.Name); msg != "" {
			probs.Add(file, f.Pointer, "file name %q %s", f.Name, msg)
		}
	}
	checkURL(file, "/paidLink", s.PaidLink, probs)
	if s.LicenseInfo != nil {
		checkURL(file, "/licenseInfo/url", s.LicenseInfo.URL, probs)
	}
}

// checkURL refuses a link consumers will render that is not http(s): a
// javascript: or data: URL there runs in the consumer's UI when clicked.
// Browsers drop ASCII tabs and newlines from URLs, so this does too.
func checkURL(file, ptr, u string, probs *problem.List) {
	if u == "" {
		return
	}
	norm := strings.ToLower(strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, u)))
	if !strings.HasPrefix(norm, "https://") && !strings.HasPrefix(norm, "http://") {
		probs.Add(file, ptr, "%q is not an http(s) URL; consumers render it as a link", u)
	}
}

// checkArtifactVersion accepts an artifact version as CDAP reads one: a
// range, when it starts with [ or ( (checked as a cdapVersion is), or else
// exactly one version. The backend reads a bare version as exactly that
// one, and the pipeline UI's artifact check (_checkVersionIsInRange) takes
// a value without a bracket as a version to compare for equality, so unlike
// a cdapVersion a bare version is fine here.
func checkArtifactVersion(file, ptr, s string, probs *problem.List) {
	t := strings.TrimFunc(s, unicode.IsSpace)
	switch {
	case isRangeStart(t):
		if _, err := ParseCDAPRange(s); err != nil {
			probs.Add(file, ptr, "%v", err)
		}
	case t != s && acceptedVersion(t):
		probs.Add(file, ptr, "%q has spaces around it: CDAP reads it as a version only without them; remove the spaces: %q", s, t)
	default:
		if _, err := ParseVersion(s); err != nil {
			probs.Add(file, ptr, "%v", err)
		}
	}
}

// acceptedVersion reports whether s is a version of our grammar.
func acceptedVersion(s string) bool {
	_, err := ParseVersion(s)
	return err == nil
}

// CheckFileName returns why name cannot be a file of a version folder, or "".
func CheckFileName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case name == "." || name == "..":
		return "is not a file name"
	case len(name) > MaxFileNameLength:
		return fmt.Sprintf("is %d bytes long, over the %d-byte limit (MaxFileNameLength)", len(name), MaxFileNameLength)
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case strings.ContainsAny(name, `/\`):
		return "has a path separator; resources are flat files in the version folder"
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "has a control character"
	case strings.ContainsFunc(name, func(r rune) bool { return unicode.Is(unicode.Cf, r) }):
		return "has an invisible or direction-changing character (Unicode format character)"
	}
	return ""
}

// MaxFileNameLength is the longest file name accepted, in bytes: what
// common file systems allow.
const MaxFileNameLength = 255

// schemaProblems turns the leaves of a validation error tree into problems.
func schemaProblems(file string, ve *jsonschema.ValidationError, probs *problem.List) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			schemaProblems(file, c, probs)
		}
		return
	}
	ptr := pointer(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			msg := fmt.Sprintf("unknown key %q", p)
			if s := suggest(p, knownKeys(ve.InstanceLocation)); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			probs.Add(file, ptr+"/"+escapePointer(p), "%s", msg)
		}
	case *kind.Required:
		for _, m := range k.Missing {
			probs.Add(file, ptr, "missing required key %q", m)
		}
	case *kind.Type:
		probs.Add(file, ptr, "is %s, want %s", k.Got, strings.Join(k.Want, " or "))
	case *kind.MinItems:
		probs.Add(file, ptr, "must have at least %d item(s)", k.Want)
	case *kind.MinLength:
		probs.Add(file, ptr, "must not be empty")
	case *kind.Group, *kind.Reference, *kind.Schema:
		// wrappers without their own message
	default:
		probs.Add(file, ptr, "%s", ve.ErrorKind.LocalizedString(printer))
	}
}

// knownKeys lists the keys allowed in the object at loc, for typo suggestions.
func knownKeys(loc []string) []string {
	switch {
	case len(loc) == 0:
		return []string{"$schema", "specVersion", "label", "description", "author", "org", "created", "categories",
			"cdapVersion", "license", "licenseInfo", "beta", "preview", "paidLink", "deprecated", "actions"}
	case len(loc) == 1 && loc[0] == "licenseInfo":
		return []string{"name", "url"}
	case len(loc) == 2 && loc[0] == "actions":
		return []string{"type", "label", "arguments"}
	case len(loc) == 4 && loc[2] == "arguments":
		return []string{"name", "value", "canModify"}
	case len(loc) == 5 && loc[4] == "value":
		return []string{"scope", "name", "version"}
	}
	return nil
}

// suggest returns the known key closest to s when it is a likely typo.
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(s), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func pointer(loc []string) string {
	var b strings.Builder
	for _, s := range loc {
		b.WriteByte('/')
		b.WriteString(escapePointer(s))
	}
	return b.String()
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return pointerEscaper.Replace(s)
}

// pointerEscaper escapes a JSON pointer token; made once (a Replacer
// builds its tables on first use, which per token was a spec's costliest
// allocation).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// scan walks the JSON tokens once, before anything is built from them: it
// reports syntax errors with line and column, duplicate keys (which the
// schema cannot see: a decoder keeps the last), and nesting beyond MaxJSONDepth.
func scan(file string, data []byte) problem.List {
	s := &tokenScan{file: file, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	s.dec.UseNumber()
	for {
		tok, err := s.dec.Token()
		if err != nil {
			if err.Error() == "EOF" && len(s.stack) == 0 {
				break
			}
			line, col := position(data, s.dec.InputOffset())
			msg := err.Error()
			if msg == "EOF" || msg == "unexpected EOF" {
				msg = "unexpected end of file"
			}
			s.probs.Add(file, "", "is not valid JSON: line %d, column %d: %s", line, col, strings.TrimPrefix(msg, "json: "))
			return s.probs
		}
		if s.key(tok) {
			continue
		}
		if !s.value(tok) {
			return s.probs
		}
		if len(s.stack) == 0 {
			s.end()
			break
		}
	}
	return s.probs
}

// tokenScan is scan's state: the containers open around the current token.
type tokenScan struct {
	file  string
	data  []byte
	dec   *json.Decoder
	stack []*scanFrame
	probs problem.List
}

// scanFrame is one open object or array.
type scanFrame struct {
	object bool
	keys   map[string]bool
	index  int
	key    string // pending key in an object
	path   string // pointer of this container
}

// child is the pointer of the next value in the innermost container.
func (s *tokenScan) child() string {
	if len(s.stack) == 0 {
		return ""
	}
	f := s.stack[len(s.stack)-1]
	if f.object {
		return f.path + "/" + escapePointer(f.key)
	}
	return f.path + "/" + strconv.Itoa(f.index)
}

func (s *tokenScan) afterValue() {
	if len(s.stack) == 0 {
		return
	}
	f := s.stack[len(s.stack)-1]
	if f.object {
		f.key = ""
	} else {
		f.index++
	}
}

// key takes tok as an object key when one is expected, reporting a
// duplicate; it says whether it did.
func (s *tokenScan) key(tok json.Token) bool {
	if len(s.stack) == 0 || !s.stack[len(s.stack)-1].object || s.stack[len(s.stack)-1].key != "" {
		return false
	}
	key, ok := tok.(string)
	if !ok {
		return false
	}
	f := s.stack[len(s.stack)-1]
	if f.keys[key] {
		s.probs.Add(s.file, f.path+"/"+escapePointer(key), "duplicate key %q (JSON readers disagree on which value wins)", key)
	}
	f.keys[key] = true
	f.key = key
	return true
}

// value takes tok as a value or a delimiter; false when nesting is too deep.
func (s *tokenScan) value(tok json.Token) bool {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{', '[':
			if len(s.stack) >= MaxJSONDepth {
				s.probs.Add(s.file, s.child(), "nests deeper than %d levels (MaxJSONDepth)", MaxJSONDepth)
				return false
			}
			s.stack = append(s.stack, &scanFrame{object: t == '{', keys: map[string]bool{}, path: s.child()})
		case '}', ']':
			s.stack = s.stack[:len(s.stack)-1]
			s.afterValue()
		}
	default:
		s.afterValue()
	}
	return true
}

// end checks that nothing follows the top-level value.
func (s *tokenScan) end() {
	if _, err := s.dec.Token(); err == nil {
		s.probs.Add(s.file, "", "is not valid JSON: more than one value (text after the closing brace)")
	} else if err.Error() != "EOF" {
		line, col := position(s.data, s.dec.InputOffset())
		s.probs.Add(s.file, "", "is not valid JSON: line %d, column %d: %s", line, col, strings.TrimPrefix(err.Error(), "json: "))
	}
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = min(off, int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
