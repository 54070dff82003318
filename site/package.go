package site

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// versionView is one version's section of a package page.
type versionView struct {
	Version, ID         string
	Created, CreatedISO string
	// Range is the cdapVersion range in words ("" for any), RangeRaw as written.
	Range, RangeRaw string
	// Compat are the listed product versions the range holds.
	Compat     []string
	Listed     bool   // the site lists product versions at all
	Note       string // the version's description, when it differs from the package's
	Deprecated string
	Beta, Paid bool
	PaidLink   string
	Latest     bool   // the version the package's card shows (and market fetch NAME installs)
	Badge      string // "Latest" for it, or "Recommended" when a newer version is deprecated
	License    license
	Actions    []action
	Files      []fileView
	Archive    *fileView
	Verify     *verify // nil when the tree is unsigned
}

type license struct {
	Name     string // licenseInfo.name
	URL      string // licenseInfo.url
	File     string // the licence file, from the page; "" when absent
	FileName string // its name
}

// fileView is one served file of a version.
type fileView struct {
	Name   string
	Href   string // from the page
	Size   string // for people
	Bytes  int64
	SHA256 string
	Sig    string // its .asc, from the page; "" when it has none
}

// verify is the "verify this download" box: the commands for one file.
type verify struct {
	File     string   // archive.zip, or spec.json when there is no archive
	Commands []string // download, then check with gpgv and sqv
	Fetch    string   // market fetch …
	Unknown  bool     // the commands hold SiteURL, for the script to fill in
}

func (m *model) packagePage(p *pkg) (*page, error) {
	c := p.Card
	pp := &page{Root: "../../", Title: c.Label + " · " + m.site.Title, Site: m.site, Script: m.site.Signed && m.site.From == SiteURL,
		Description: c.Description, Card: c}
	for i, v := range p.Versions {
		vv, err := m.versionView(v, c, pp.Root)
		if err != nil {
			return nil, err
		}
		if vv.Latest {
			vv.Badge = "Latest"
			if i > 0 {
				vv.Badge = "Recommended"
			}
		}
		pp.Versions = append(pp.Versions, vv)
	}
	return pp, nil
}

// actions describes v's actions, from its spec: given, or read now.
func (m *model) actions(v *version) ([]action, error) {
	spec := v.Spec
	if spec == nil && m.loadSpec != nil {
		var err error
		if spec, err = m.loadSpec(v.Name, v.Version); err != nil {
			return nil, err
		}
	}
	var out []action
	if spec != nil {
		for _, a := range spec.Actions {
			out = append(out, describeAction(a))
		}
	}
	return out, nil
}

// versionView is v's section of its package page, whose links start with root.
func (m *model) versionView(v *version, c *card, root string) (versionView, error) {
	s := m.site
	vv := versionView{
		Version: v.Version, ID: "v" + v.Version,
		Created: dateOf(v.Created), CreatedISO: dateOf(v.Created),
		Listed:     len(s.ProductVersions) > 0,
		Deprecated: v.Deprecated, Beta: v.Beta, Paid: v.Paid, PaidLink: v.PaidLink,
		Latest: v.Version == c.Version,
	}
	if v.Range != nil {
		vv.Range, vv.RangeRaw = v.Range.Describe(), v.Range.String()
	}
	for _, i := range v.Compat {
		vv.Compat = append(vv.Compat, s.ProductVersions[i])
	}
	if v.Description != c.Description {
		vv.Note = v.Description
	}
	// license names the licence file (the CDAP UI fetches it);
	// licenseInfo names the licence.
	if li := v.LicenseInfo; li != nil {
		vv.License.Name, vv.License.URL = li.Name, li.URL
	}
	vfiles := files(v.Entry, m.filesOf)
	for _, name := range []string{v.License, "license.txt"} {
		if _, ok := vfiles[name]; ok && name != "" {
			vv.License.File, vv.License.FileName = root+fileHref(s.API, v.Name, v.Version, name), name
			break
		}
	}
	var err error
	if vv.Actions, err = m.actions(v); err != nil {
		return vv, err
	}
	names := make([]string, 0, len(vfiles))
	for name := range vfiles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := vfiles[name]
		fv := fileView{Name: name, Href: root + fileHref(s.API, v.Name, v.Version, name), Size: humanSize(f.Size), Bytes: f.Size, SHA256: f.SHA256}
		if s.Signed {
			fv.Sig = fv.Href + ".asc"
		}
		vv.Files = append(vv.Files, fv)
		if name == catalog.ArchiveName {
			vv.Archive = &vv.Files[len(vv.Files)-1]
		}
	}
	if vv.Archive != nil {
		a := *vv.Archive // Files may still grow: keep a copy
		vv.Archive = &a
	}
	if s.Signed {
		file := catalog.ArchiveName
		if vv.Archive == nil {
			file = catalog.SpecName
		}
		url := s.From + "/" + fileHref(s.API, v.Name, v.Version, file)
		vv.Verify = &verify{
			File: file,
			Commands: []string{
				fmt.Sprintf("curl -O %s -O %s.asc", url, url),
				fmt.Sprintf("curl -O %s/%s/keys.asc", s.From, s.API),
				"gpg --dearmor < keys.asc > keys.gpg",
				fmt.Sprintf("gpgv --keyring ./keys.gpg %s.asc %s", file, file),
				fmt.Sprintf("sqv --keyring keys.asc %s.asc %s", file, file),
			},
			Fetch:   fmt.Sprintf("market fetch %s@%s --from %s --keyring keys.asc", v.Name, v.Version, s.From),
			Unknown: s.From == SiteURL,
		}
	}
	return vv, nil
}

// action is one install step, summarized for people.
type action struct {
	Label string
	Parts []part   // the summary: text with names in code
	Steps []string // an informational action's steps
}

// part is a piece of an action summary; Code ones are names (files,
// artifacts) set in monospace.
type part struct {
	Text string
	Code bool
}

// describeAction summarizes an action readably, e.g. "Deploy plugin
// artifact demo 1.0.0 from demo.jar (config demo.json), user scope".
func describeAction(a schema.Action) action {
	args := map[string]json.RawMessage{}
	for _, arg := range a.Arguments {
		if _, dup := args[arg.Name]; !dup {
			args[arg.Name] = arg.Value
		}
	}
	str := func(name string) string { return argString(args[name]) }
	list := func(name string) []string { return argStrings(args[name]) }
	out := action{Label: a.Label}
	var b summary
	switch a.Type {
	case "one_step_deploy_plugin", "create_plugin_artifact":
		b.text("Deploy plugin artifact ")
		if a.Type == "create_plugin_artifact" {
			b.parts[0].Text = "Create plugin artifact "
		}
		b.artifact(str("name"), str("version"))
		b.opt(" from ", str("jar"), "")
		b.opt(" (config ", str("config"), ")")
		b.scope(str("scope"))
	case "create_driver_artifact":
		b.text("Create driver artifact ")
		b.artifact(str("name"), str("version"))
		b.text(" from a JAR you upload")
		b.opt(" (config ", str("config"), ")")
		b.scope(str("scope"))
	case "one_step_deploy_app", "deploy_app":
		b.text("Deploy application")
		b.opt(" from ", str("jar"), "")
	case "create_pipeline", "create_pipeline_draft":
		b.pipeline(a.Type, str("name"), args["artifact"], str("config"))
	case "load_datapack":
		b.text("Load data pack")
		if n := str("name"); n != "" {
			b.text(" ")
			b.code(n)
		}
		b.files(" from ", list("files"))
	case "create_stream":
		b.text("Create stream ")
		b.code(str("name"))
		if d := str("description"); d != "" {
			b.text(" (" + d + ")")
		}
		b.files(", loading ", list("loadfiles"))
	case "informational":
		b.text("Do these steps yourself:")
		out.Steps = list("steps")
	default:
		b.other(a)
	}
	out.Parts = b.parts
	return out
}

// pipeline summarizes a create_pipeline or create_pipeline_draft action.
func (s *summary) pipeline(typ, name string, artifact json.RawMessage, config string) {
	if typ == "create_pipeline" {
		s.text("Create pipeline ")
	} else {
		s.text("Create pipeline draft ")
	}
	s.code(name)
	var art struct{ Scope, Name, Version string }
	if json.Unmarshal(artifact, &art) == nil && art.Name != "" {
		s.text(" on ")
		s.code(art.Name)
		if art.Version != "" {
			if r, err := schema.ParseRange(art.Version); err == nil {
				s.text(" " + r.Describe())
			} else {
				s.text(" " + art.Version)
			}
		}
		if art.Scope != "" {
			s.text(" (" + art.Scope + " scope)")
		}
	}
	s.opt(" from ", config, "")
}

// other summarizes an action of a type without a summary of its own: the
// type in words, then every argument.
func (s *summary) other(a schema.Action) {
	s.text(strings.ReplaceAll(a.Type, "_", " "))
	for i, arg := range a.Arguments {
		if i == 0 {
			s.text(": ")
		} else {
			s.text(", ")
		}
		s.text(arg.Name + " ")
		s.code(argString(arg.Value))
	}
}

// summary builds an action summary out of parts.
type summary struct{ parts []part }

func (s *summary) text(t string) { s.parts = append(s.parts, part{Text: t}) }
func (s *summary) code(t string) { s.parts = append(s.parts, part{Text: t, Code: true}) }

// opt adds before, v in code and after, when v is not "".
func (s *summary) opt(before, v, after string) {
	if v == "" {
		return
	}
	s.text(before)
	s.code(v)
	if after != "" {
		s.text(after)
	}
}

func (s *summary) artifact(name, version string) {
	s.code(cmp.Or(name, "(unnamed)"))
	if version != "" {
		s.text(" " + version)
	}
}

func (s *summary) scope(scope string) {
	if scope != "" {
		s.text(", " + scope + " scope")
	}
}

func (s *summary) files(before string, names []string) {
	for i, n := range names {
		switch {
		case i == 0:
			s.text(before)
		case i == len(names)-1:
			s.text(" and ")
		default:
			s.text(", ")
		}
		s.code(n)
	}
}

// argString is an argument's value as text: a string as is, anything else
// as compact JSON.
func argString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// argStrings is a list-of-strings argument (a lone string is a list of one).
func argStrings(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	if s := argString(raw); s != "" {
		return []string{s}
	}
	return nil
}
