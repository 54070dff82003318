package client_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// tamperServer serves a case's tree over HTTP, one file by a rule.
type tamperServer struct {
	rule, file string // "" for none; file slash-separated, relative to the root
	n          int    // the rule's number
	requests   atomic.Int32
}

// serve starts serving the tree with [RULE FILE [N]]; the want lines then
// use its URL.
func (r *tamperRun) serve(w []string) {
	t := r.t
	s := &tamperServer{}
	switch {
	case len(w) == 0:
	case len(w) == 2 && (w[0] == "endless" || w[0] == "endless-tail" || w[0] == "missing"):
		s.rule, s.file = w[0], w[1]
	case len(w) == 3 && (w[0] == "padded" || w[0] == "flaky"):
		s.rule, s.file, s.n = w[0], w[1], r.atoi(w[2])
	default:
		t.Fatalf("serve %q: want [endless|endless-tail|missing FILE] or [padded|flaky FILE N]", w)
	}
	files := http.FileServer(http.Dir(r.dir))
	local := filepath.Join(r.dir, filepath.FromSlash(s.file))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if s.rule == "" || req.URL.Path != "/"+s.file || !s.answer(w, req, local) {
			files.ServeHTTP(w, req)
		}
	}))
	t.Cleanup(srv.Close)
	r.srv, r.loc = s, srv.URL
}

// answer answers a request for the rule's file (on disk at local), or
// says it leaves it to the file server.
func (s *tamperServer) answer(w http.ResponseWriter, r *http.Request, local string) bool {
	n := s.requests.Add(1)
	switch s.rule {
	case "endless":
		endless(w, r, nil)
	case "endless-tail", "padded":
		data, err := os.ReadFile(local)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		} else if s.rule == "padded" {
			http.ServeContent(w, r, path.Base(s.file), time.Time{}, bytes.NewReader(append(data, make([]byte, s.n)...)))
		} else {
			endless(w, r, data)
		}
	case "flaky":
		if int(n) > s.n {
			return false
		}
		http.Error(w, "try again", http.StatusInternalServerError)
	case "missing":
		http.NotFound(w, r)
	}
	return true
}

// wantRequests checks how often the rule's file was requested, and starts
// counting again: a flaky file fails again.
func (s *tamperServer) wantRequests(t *testing.T, file, n string) {
	t.Helper()
	if s == nil || s.rule == "" || file != s.file {
		t.Fatalf("requests %s: the tree is not served with a rule for it", file)
	}
	if got := s.requests.Swap(0); strconv.Itoa(int(got)) != n {
		t.Errorf("%s was requested %d times; want %s", file, got, n)
	}
}

// endless writes head, then bytes until the client goes away.
func endless(w http.ResponseWriter, r *http.Request, head []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	if _, err := w.Write(head); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}
