package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/market-dev/market/schema/catalog"
)

// source reads the files of a marketplace: a directory or a base URL.
type source interface {
	// fetch copies the file at rel (slash-separated, inside the root) to
	// w, failing with ErrTooLarge past limit bytes. A retried attempt
	// calls w.reset first.
	fetch(ctx context.Context, rel string, limit int64, w sink) error
	// String names the root for messages.
	String() string
}

// sink receives a download; reset discards a failed attempt's bytes.
type sink interface {
	io.Writer
	reset() error
}

type bufferSink struct{ bytes.Buffer }

func (b *bufferSink) reset() error { b.Reset(); return nil }

type fileSink struct{ *os.File }

func (f fileSink) reset() error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

// get reads a small file whole.
func get(ctx context.Context, src source, rel string, limit int64) ([]byte, error) {
	var b bufferSink
	if err := src.fetch(ctx, rel, limit, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// copyLimited copies r to w, failing with ErrTooLarge past limit bytes.
func copyLimited(rel string, w io.Writer, r io.Reader, limit int64) error {
	n, err := io.Copy(w, io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		return errorf(rel, ErrTooLarge, "more than %d bytes", limit)
	}
	return nil
}

// dirSource reads a tree on disk; nothing outside the root can be reached.
type dirSource struct {
	root *os.Root
	dir  string
}

func (d *dirSource) String() string { return d.dir }

func (d *dirSource) fetch(ctx context.Context, rel string, limit int64, w sink) error {
	f, err := d.root.Open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Path: rel, Kind: ErrNotFound}
	}
	if err != nil {
		return &Error{Path: rel, Kind: ErrNotFound, Err: err}
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return errorf(rel, ErrNotFound, "not a regular file")
	}
	return copyLimited(rel, w, f, limit)
}

// httpSource reads a tree over HTTP(S), retrying network errors and
// server errors (5xx, 429) with exponential backoff.
type httpSource struct {
	base    *url.URL // ends in "/"
	client  *http.Client
	timeout time.Duration
	retries int
	backoff time.Duration
	agent   string
}

func (h *httpSource) String() string { return h.base.String() }

func (h *httpSource) fetch(ctx context.Context, rel string, limit int64, w sink) error {
	u := h.base.JoinPath(strings.Split(rel, "/")...)
	var last error
	for attempt := 0; attempt <= h.retries; attempt++ {
		if attempt > 0 {
			if err := w.reset(); err != nil {
				return err
			}
			// Exponential backoff with full jitter: backoff * 2^(attempt-1), at most.
			wait := time.Duration(rand.Int64N(int64(h.backoff<<(attempt-1)) + 1))
			select {
			case <-ctx.Done():
				return &Error{Path: rel, Kind: ErrNetwork, Err: ctx.Err()}
			case <-time.After(wait):
			}
		}
		retry, err := h.attempt(ctx, u, rel, limit, w)
		if err == nil || !retry {
			return err
		}
		last = err
	}
	return last
}

// attempt makes one request; retry says whether another may succeed.
func (h *httpSource) attempt(ctx context.Context, u *url.URL, rel string, limit int64, w io.Writer) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, &Error{Path: rel, Kind: ErrNetwork, Err: err}
	}
	req.Header.Set("User-Agent", h.agent)
	resp, err := h.client.Do(req)
	if err != nil {
		return ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded), &Error{Path: rel, Kind: ErrNetwork, Err: err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return false, &Error{Path: rel, Kind: ErrNotFound, Err: fmt.Errorf("GET %s: %s", u, resp.Status)}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, &Error{Path: rel, Kind: ErrNetwork, Err: fmt.Errorf("GET %s: %s", u, resp.Status)}
	default:
		return false, &Error{Path: rel, Kind: ErrNetwork, Err: fmt.Errorf("GET %s: %s", u, resp.Status)}
	}
	if resp.ContentLength > limit {
		return false, errorf(rel, ErrTooLarge, "the server announces %d bytes, over the %d-byte limit", resp.ContentLength, limit)
	}
	if err := copyLimited(rel, w, resp.Body, limit); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return false, err
		}
		return true, &Error{Path: rel, Kind: ErrNetwork, Err: err}
	}
	return false, nil
}

// newSource opens location: an http(s) URL or a directory.
func newSource(location string, opts *Options) (source, error) {
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		u, err := url.Parse(location)
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		u.RawQuery, u.Fragment = "", ""
		client := opts.HTTPClient
		if client == nil {
			client = &http.Client{}
		}
		return &httpSource{base: u, client: client, timeout: opts.Timeout, retries: opts.Retries, backoff: opts.Backoff, agent: opts.UserAgent}, nil
	}
	abs, err := filepath.Abs(location)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	return &dirSource{root: root, dir: abs}, nil
}

// splitAPI takes a trailing API folder (v1, v2, …) off location.
func splitAPI(location string) (root, api string) {
	trimmed := strings.TrimRight(location, "/")
	base := path.Base(trimmed)
	if catalog.IsAPI(base) {
		return strings.TrimSuffix(trimmed, base), base
	}
	return location, ""
}
