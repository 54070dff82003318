package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/schema/problem"
)

// JUnit XML, as CI systems (GitHub, GitLab, Jenkins) display test results:
// one test case per version folder checked, failed by its errors, its
// warnings as output; problems outside any version folder are one more case.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes the report of a validation to file. Folders are the
// version folders checked; every problem lands in the case of the folder
// that holds it.
func writeJUnit(file string, t *builder.Tree, folders []string) error {
	byFolder, other := problemsByFolder(t.Problems, folders)
	suite := junitSuite{Name: "market validate"}
	slices.Sort(folders)
	for _, f := range folders {
		rel := filepath.ToSlash(f)
		suite.add(rel, rel, byFolder[f])
	}
	if len(other) > 0 {
		suite.add("packages directory", "", other)
	}
	data, err := xml.MarshalIndent(junitSuites{Suites: []junitSuite{suite}}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append([]byte(xml.Header), append(data, '\n')...), 0o644)
}

// problemsByFolder sorts problems into the folders that hold them; other
// are those outside every folder.
func problemsByFolder(probs problem.List, folders []string) (byFolder map[string]problem.List, other problem.List) {
	byFolder = map[string]problem.List{}
	for _, p := range probs {
		owner := ""
		for _, f := range folders {
			if p.File == f || strings.HasPrefix(p.File, f+string(filepath.Separator)) {
				owner = f
				break
			}
		}
		if owner == "" {
			other = append(other, p)
		} else {
			byFolder[owner] = append(byFolder[owner], p)
		}
	}
	return byFolder, other
}

// add adds a case failed by the errors among probs, its warnings as output.
func (s *junitSuite) add(name, file string, probs problem.List) {
	c := junitCase{Name: name, ClassName: "market.validate", File: file}
	var errs, warns []string
	for _, p := range probs {
		if p.Severity == problem.Warning {
			warns = append(warns, p.String())
		} else {
			errs = append(errs, p.String())
		}
	}
	if len(errs) > 0 {
		c.Failure = &junitFailure{Message: errs[0], Type: "validation", Text: strings.Join(errs, "\n")}
		s.Failures++
	}
	c.SystemOut = strings.Join(warns, "\n")
	s.Cases = append(s.Cases, c)
	s.Tests++
}
