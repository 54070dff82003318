package builder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/market-dev/market/schema"
	"github.com/market-dev/market/schema/catalog"
)

// DefaultTitle names a marketplace whose market.yaml sets no title: on the
// site and in metadata.json, where the CDAP UI names the market's tab.
const DefaultTitle = "Package marketplace"

// ConfigFile is the name of the optional configuration at the repository root.
const ConfigFile = "market.yaml"

// Resource layouts: how the files of a version folder other than spec.json,
// the icon and license.txt are served.
const (
	ResourcesBoth    = "both"    // archive.zip and each file loose, all signed (default)
	ResourcesArchive = "archive" // archive.zip only
	ResourcesFiles   = "files"   // each file loose only, as the CDAP Hub serves them
)

// Config is market.yaml. Every key is optional.
type Config struct {
	// Title names the marketplace on the site.
	Title string `yaml:"title"`
	// BaseURL is where the tree is served, e.g. https://hub.example.com/.
	BaseURL string `yaml:"baseURL"`
	// API is the path segment the tree lives under (default v1; the CDAP Hub serves v2).
	API string `yaml:"api"`
	// Product names the product that installs packages and the versions a
	// per-version catalog is written for.
	Product Product `yaml:"product"`
	// Categories, when set, is the list of allowed categories, in display order.
	Categories []string `yaml:"categories"`
	// Resources is the layout: both, archive or files.
	Resources string `yaml:"resources"`
	// Out is the default output directory, relative to the repository root.
	Out string `yaml:"out"`
	// Icons, when set, are rules every version's icon must meet.
	Icons IconRules `yaml:"icons"`

	// Path is where the config was read from ("" when defaults are used).
	Path string `yaml:"-"`
	// ProductVersions are Product.Versions parsed.
	ProductVersions []schema.Version `yaml:"-"`
}

// Product is the consumer product whose versions ranges are checked against.
type Product struct {
	Name     string   `yaml:"name"`
	Versions []string `yaml:"versions"`
}

// IconRules are what a marketplace asks of its icons, beyond MaxIconSize
// (e.g. square, at least 64 pixels a side, at most 256 KiB). Zero values
// ask nothing. Sizes of an SVG are its width and height, else its viewBox.
type IconRules struct {
	Square   bool  `yaml:"square"`
	MinSize  int   `yaml:"minSize"`  // pixels, each side
	MaxSize  int   `yaml:"maxSize"`  // pixels, each side
	MaxBytes int64 `yaml:"maxBytes"` // at most MaxIconSize
}

// ConfigError is a problem with market.yaml or the options: exit status 2.
type ConfigError struct {
	File string
	Err  error
}

func (e *ConfigError) Error() string {
	if e.File == "" {
		return e.Err.Error()
	}
	return e.File + ": " + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig reads path (market.yaml); a missing file gives the defaults.
func LoadConfig(path string) (*Config, error) {
	cfg := &Config{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, &ConfigError{path, err}
	default:
		cfg.Path = path
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, &ConfigError{path, err}
		}
	}
	if err := cfg.normalize(); err != nil {
		return nil, &ConfigError{cfg.Path, err}
	}
	return cfg, nil
}

func (c *Config) normalize() error {
	if c.API == "" {
		c.API = "v1"
	}
	if !catalog.IsAPI(c.API) {
		return fmt.Errorf("api: %q is not an API version segment (v1, v2, …)", c.API)
	}
	switch c.Resources {
	case "":
		c.Resources = ResourcesBoth
	case ResourcesBoth, ResourcesArchive, ResourcesFiles:
	default:
		return fmt.Errorf("resources: %q is not one of both, archive, files", c.Resources)
	}
	if c.Product.Name == "" {
		c.Product.Name = "CDAP"
	}
	seen := map[string]bool{}
	for _, s := range c.Product.Versions {
		v, err := schema.ParseVersion(s)
		if err != nil {
			return fmt.Errorf("product.versions: %v", err)
		}
		if seen[v.Semver().String()] {
			return fmt.Errorf("product.versions: %q is listed twice", s)
		}
		seen[v.Semver().String()] = true
		c.ProductVersions = append(c.ProductVersions, v)
	}
	for i, cat := range c.Categories {
		if cat == "" {
			return fmt.Errorf("categories[%d] is empty", i)
		}
		for _, other := range c.Categories[:i] {
			if other == cat {
				return fmt.Errorf("categories: %q is listed twice", cat)
			}
		}
	}
	if c.Out != "" && !filepath.IsLocal(c.Out) {
		return fmt.Errorf("out: %q must be a path inside the repository root (relative, no ..)", c.Out)
	}
	if ic := c.Icons; ic.MinSize < 0 || ic.MaxSize < 0 || ic.MaxBytes < 0 || ic.MaxBytes > MaxIconSize || ic.MaxSize > 0 && ic.MinSize > ic.MaxSize {
		return fmt.Errorf("icons: minSize %d, maxSize %d, maxBytes %d: want 0 <= minSize <= maxSize and maxBytes <= %d (MaxIconSize)", ic.MinSize, ic.MaxSize, ic.MaxBytes, MaxIconSize)
	}
	return nil
}
