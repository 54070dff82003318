package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/market-dev/market/builder"
	"github.com/market-dev/market/schema/catalog"
)

// releaseFlags ask for a signed release.json.
type releaseFlags struct {
	expires  string
	previous string
}

func (r *releaseFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&r.expires, "expires", "", "add a signed release.json valid this long (e.g. 30d, 12h); consumers refuse it after that")
	f.StringVar(&r.previous, "previous", "", "the last published release.json (FILE or http(s) URL), whose serial the new one exceeds (default: the one in --out)")
}

// options turns the flags into builder.ReleaseOptions; nil when no release is asked for.
func (r *releaseFlags) options(ctx context.Context) (*builder.ReleaseOptions, error) {
	if r.expires == "" {
		if r.previous != "" {
			return nil, usagef("--previous needs --expires")
		}
		return nil, nil
	}
	valid, err := parseValidity(r.expires)
	if err != nil {
		return nil, usagef("--expires: %v", err)
	}
	at, err := releaseTime()
	if err != nil {
		return nil, usageError{err}
	}
	ro := &builder.ReleaseOptions{Valid: valid, Time: at}
	if r.previous != "" {
		data, err := readSource(ctx, r.previous, catalog.MaxReleaseSize)
		if err != nil {
			return nil, usagef("--previous: %v", err)
		}
		if ro.Previous, err = catalog.ParseRelease(data); err != nil {
			return nil, usagef("--previous %s: %v", r.previous, err)
		}
	}
	return ro, nil
}

// parseValidity reads a validity period: Go durations (720h) or whole days (30d).
func parseValidity(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration (want e.g. 30d or 12h)", s)
		}
	}
	if d < time.Hour || d > 10*365*24*time.Hour {
		return 0, fmt.Errorf("%s is outside 1h..3650d", s)
	}
	return d, nil
}

// releaseTime is SOURCE_DATE_EPOCH when set (reproducible builds), else now.
func releaseTime() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Now(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a Unix time in seconds", v)
	}
	return time.Unix(n, 0), nil
}

// readSource reads a local file or an http(s) URL, refusing more than limit bytes.
func readSource(ctx context.Context, src string, limit int64) ([]byte, error) {
	var r io.ReadCloser
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		body, err := httpGet(ctx, src)
		if err != nil {
			return nil, err
		}
		r = body
	} else {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		r = f
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is over the %d-byte limit", src, limit)
	}
	return data, nil
}

// httpGet returns the body of a 200 answer to GET url.
func httpGet(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp.Body, nil
}
