package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// generate writes a deterministic corpus and returns its size in bytes.
// Each version holds spec.json, a JSON plugin config (compressible) and a
// real jar storing random bytes (incompressible), about size bytes in all;
// with files = 5, also an icon.png and a license.txt.
func generate(repo string, packages, versions, size, files int, seed uint64) int64 {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	icon := pngIcon()
	var total int64
	for p := 0; p < packages; p++ {
		name := fmt.Sprintf("bench-plugin-%05d", p)
		for v := 0; v < versions; v++ {
			ver := fmt.Sprintf("1.%d.0", v)
			dir := filepath.Join(repo, "packages", name, ver)
			check(os.MkdirAll(dir, 0o755))
			base := name + "-" + ver
			out := map[string][]byte{
				"spec.json":    specJSON(name, ver, base, p, v, files == 5),
				base + ".json": config(rng, size/2),
				base + ".jar":  jar(rng, size-size/2),
			}
			if files == 5 {
				out["icon.png"], out["license.txt"] = icon, []byte("Apache License 2.0\n")
			}
			for f, data := range out {
				check(os.WriteFile(filepath.Join(dir, f), data, 0o644))
				total += int64(len(data))
			}
		}
	}
	return total
}

func specJSON(name, ver, base string, p, v int, license bool) []byte {
	spec := map[string]any{
		"specVersion": "1.0", "label": name, "description": "A generated plugin for benchmarks.",
		"author": "bench", "org": "bench", "created": 1600000000 + p*10 + v, "categories": []string{"hydrator-plugin"},
		"cdapVersion": "[6.0.0,7.0.0-SNAPSHOT)",
		"actions": []any{map[string]any{"type": "one_step_deploy_plugin", "arguments": []any{
			map[string]string{"name": "name", "value": name},
			map[string]string{"name": "version", "value": ver},
			map[string]string{"name": "scope", "value": "user"},
			map[string]string{"name": "config", "value": base + ".json"},
			map[string]string{"name": "jar", "value": base + ".jar"},
		}}},
	}
	if license {
		spec["license"] = "license.txt"
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	check(err)
	return data
}

var words = strings.Fields("source sink transform plugin pipeline batch stream field schema record table column value join filter")

// config is a JSON plugin config of words, about size bytes.
func config(rng *rand.Rand, size int) []byte {
	var cfg bytes.Buffer
	cfg.WriteString(`{"parents": ["system:cdap-data-pipeline[6.0.0,7.0.0-SNAPSHOT)"], "properties": [`)
	for cfg.Len() < size {
		fmt.Fprintf(&cfg, `{"name": "%s-%d", "widget": "%s", "doc": "%s %s"},`, words[rng.IntN(len(words))], rng.IntN(1000),
			words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))])
	}
	cfg.WriteString(`{"name": "end"}]}`)
	return cfg.Bytes()
}

// jar is a real jar: a manifest and a stored (uncompressed) blob of random
// bytes, as a jar of class files and resources behaves under deflate.
func jar(rng *rand.Rand, size int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	m, err := zw.Create("META-INF/MANIFEST.MF")
	check(err)
	m.Write([]byte("Manifest-Version: 1.0\r\n\r\n"))
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "blob.bin", Method: zip.Store})
	check(err)
	blob := make([]byte, max(size-200, 16))
	for i := 0; i+8 <= len(blob); i += 8 {
		x := rng.Uint64()
		for k := 0; k < 8; k++ {
			blob[i+k] = byte(x >> (8 * k))
		}
	}
	w.Write(blob)
	check(zw.Close())
	return buf.Bytes()
}

// pngIcon is a small square PNG.
func pngIcon() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.NRGBA{0x33, 0x66, 0xcc, 0xff})
	var buf bytes.Buffer
	check(png.Encode(&buf, img))
	return buf.Bytes()
}

// touchOne changes one version folder's config.
func touchOne(packages string) {
	f := filepath.Join(packages, "bench-plugin-00000", "1.0.0", "bench-plugin-00000-1.0.0.json")
	b, err := os.ReadFile(f)
	check(err)
	check(os.WriteFile(f, append(b, '\n'), 0o644))
}
