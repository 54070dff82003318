package publish

import (
	"context"
	"fmt"
	"io/fs"
)

// This file serves market mirror (builder/mirror), which publishes a
// staging tree holding only what the target lacks: it needs to know what
// the target holds, and a prune that leaves the versions it did not stage.

// Target is a publish target opened to read what it holds.
type Target struct {
	st      store
	objects map[string]*remote
}

// OpenTarget opens opts.To (with opts.S3) and lists it once. opts.Tree is
// the tree that will be published there: a directory target may not
// overlap it. A target not there yet holds nothing.
func OpenTarget(ctx context.Context, opts Options) (*Target, error) {
	st, err := openStore(ctx, opts)
	if err != nil {
		return nil, err
	}
	objects, err := st.list(ctx)
	if err != nil {
		return nil, &ConfigError{st.String(), err}
	}
	return &Target{st: st, objects: objects}, nil
}

// String names the target.
func (t *Target) String() string { return t.st.String() }

// Sizes returns the size of every object the target held when opened, by
// its slash path (dot-files of a directory included, the S3 manifest not).
func (t *Target) Sizes() map[string]int64 {
	sizes := make(map[string]int64, len(t.objects))
	for rel, r := range t.objects {
		sizes[rel] = r.Size
	}
	return sizes
}

// Read returns the object at rel, at most limit bytes; fs.ErrNotExist when
// the listing did not hold it.
func (t *Target) Read(ctx context.Context, rel string, limit int64) ([]byte, error) {
	if t.objects[rel] == nil {
		return nil, fs.ErrNotExist
	}
	data, err := t.st.read(ctx, rel, limit)
	if err != nil {
		return nil, fmt.Errorf("reading %s/%s: %w", t.st.String(), rel, err)
	}
	return data, nil
}

// keepingStore is a store whose prune leaves every object keep approves.
type keepingStore struct {
	store
	keep func(rel string) bool
}

func (k keepingStore) protected(rel string) bool {
	if p, ok := k.store.(protector); ok && p.protected(rel) {
		return true
	}
	return k.keep(rel)
}

// PublishKeeping is Publish, except that Prune never deletes an object
// for which keep returns true: the files of versions the target holds
// already and the tree to publish leaves out.
func PublishKeeping(ctx context.Context, opts Options, keep func(rel string) bool) (*Summary, error) {
	return publishWith(ctx, opts, func(st store) store { return keepingStore{st, keep} })
}
