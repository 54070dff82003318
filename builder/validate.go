package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/problem"
)

// ValidateVersion checks one version folder, packages/<name>/<version>,
// with every check a build makes of it (its package folder's rules
// included, such as two folders of one version), as a contributor does
// before opening a pull request. The packages directory and market.yaml
// are found from the folder's path unless opts names them. Only problems
// of that folder are returned; the version is in Tree.Versions when it has
// no error.
func ValidateVersion(opts Options, folder string) (*Tree, error) {
	folder = filepath.Clean(folder)
	info, err := os.Lstat(folder)
	if err != nil || !info.IsDir() {
		return nil, &ConfigError{folder, fmt.Errorf("not a version folder: want packages/<name>/<version>")}
	}
	name, ver := filepath.Base(filepath.Dir(folder)), filepath.Base(folder)
	if opts.Packages == "" {
		opts.Packages = filepath.Dir(filepath.Dir(folder))
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(opts.Packages, folder); err != nil || filepath.Dir(filepath.Dir(rel)) != "." {
		return nil, &ConfigError{folder, fmt.Errorf("not a version folder of the packages directory %s", opts.Packages)}
	}
	root, err := os.OpenRoot(opts.Packages)
	if err != nil {
		return nil, &ConfigError{opts.Packages, err}
	}
	defer root.Close()
	top, err := openInputDir(root, ".")
	if err != nil {
		return nil, &ConfigError{opts.Packages, err}
	}
	defer top.Close()
	t := &Tree{Dir: opts.Packages}
	var all problem.List
	s := scanner{root: root, top: top, dir: opts.Packages, cfg: opts.Config, now: opts.Now, probs: &all}
	if err := schema.CheckPackageName(name); err != nil {
		all.Add(filepath.Join(opts.Packages, name), "", "%v", err)
	}
	for _, v := range s.pkg(name) {
		if v.Version.String() == ver {
			t.Versions = append(t.Versions, v)
		}
	}
	// Only this folder's problems, and those of the package folder itself.
	pkgDir := filepath.Join(opts.Packages, name)
	self := filepath.Join(pkgDir, ver)
	for _, p := range all {
		if p.File == self || p.File == pkgDir || strings.HasPrefix(p.File, self+string(filepath.Separator)) {
			t.Problems = append(t.Problems, p)
		}
	}
	if _, err := schema.ParseVersion(ver); err != nil && len(t.Problems) == 0 {
		t.Problems.Add(self, "", "version folder: %v", err)
	}
	t.Problems = t.Problems.Sort()
	return t, nil
}
