package publish

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3Options configure an s3:// target. Credentials are never options: they
// come from the SDK's standard chain (environment, shared config and SSO,
// web identity as GitHub's OIDC gives, instance roles).
type S3Options struct {
	// Region of the bucket (default: from the environment or shared
	// config; with Endpoint and none set, us-east-1).
	Region string
	// Endpoint is the base URL of an S3-compatible store (MinIO, R2, GCS
	// interoperability); "" for AWS.
	Endpoint string
	// PathStyle addresses the bucket in the path (https://host/bucket/key),
	// as most S3-compatible stores want.
	PathStyle bool
	// MaxAttempts and MaxBackoff configure the SDK's retryer (defaults
	// DefaultMaxAttempts, DefaultMaxBackoff).
	MaxAttempts int
	MaxBackoff  time.Duration
	// HTTPClient sends the requests (default: the SDK's).
	HTTPClient *http.Client
}

// ManifestName is the object, at the top of the target's prefix, where a
// publish records each object's sha256 beside its ETag and size.
//
// S3 lists objects with their size and ETag but not their metadata, where
// each object's sha256 is stored at upload (x-amz-meta-sha256). Reading it
// back takes a HEAD per object; the manifest saves those: an entry is
// believed only while the listing still shows the object with the same
// ETag and size, i.e. while it has not been rewritten since. Any object
// without a believable entry is HEADed (and, lacking the metadata,
// downloaded and hashed). The manifest is a cache: deleting it costs
// requests, never correctness. It is written only by a publish that
// changed something, so a publish with nothing to do makes no write.
const ManifestName = ".market-publish.json"

// manifestFormat is the format version of the manifest.
const manifestFormat = 1

// maxManifestSize bounds the manifest read back.
const maxManifestSize = 64 << 20

// shaMeta is the user metadata key holding an object's sha256 (hex).
const shaMeta = "sha256"

type manifest struct {
	Format  int                      `json:"format"`
	Objects map[string]manifestEntry `json:"objects"`
}

type manifestEntry struct {
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
	SHA256 string `json:"sha256"`
}

type s3Store struct {
	client         *s3.Client
	bucket, prefix string // prefix: "" or ending in "/"
	name           string
	maxAge         time.Duration
	// saved is the manifest as read, to write it only when it changes.
	saved map[string]manifestEntry
}

// openS3 opens the target s3://loc, loc being BUCKET[/PREFIX].
func openS3(ctx context.Context, loc string, opts Options) (*s3Store, error) {
	bucket, prefix, _ := strings.Cut(loc, "/")
	prefix = strings.Trim(prefix, "/")
	name := "s3://" + bucket
	if prefix != "" {
		name += "/" + prefix
		prefix += "/"
	}
	if bucket == "" {
		return nil, &ConfigError{"s3://" + loc, errors.New("no bucket: want s3://BUCKET[/PREFIX]")}
	}
	o := opts.S3
	attempts := cmp.Or(o.MaxAttempts, DefaultMaxAttempts)
	backoff := cmp.Or(o.MaxBackoff, DefaultMaxBackoff)
	load := []func(*config.LoadOptions) error{
		// S3-compatible stores that do not speak aws-chunked bodies
		// would store the framing with the bytes.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.MaxBackoff = backoff
				so.Backoff = retry.NewExponentialJitterBackoff(backoff)
				// Many uploads in flight may all be throttled at once:
				// back off, but never give up for want of retry tokens.
				so.RateLimiter = ratelimit.None
			})
		}),
	}
	if o.Region != "" {
		load = append(load, config.WithRegion(o.Region))
	}
	if o.HTTPClient != nil {
		load = append(load, config.WithHTTPClient(o.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, &ConfigError{name, fmt.Errorf("loading the AWS configuration: %v", err)}
	}
	if cfg.Region == "" {
		if o.Endpoint == "" {
			return nil, &ConfigError{name, errors.New("no region: give --region or set AWS_REGION")}
		}
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
	})
	return &s3Store{client: client, bucket: bucket, prefix: prefix, name: name, maxAge: opts.CatalogMaxAge}, nil
}

func (s *s3Store) String() string        { return s.name }
func (s *s3Store) key(rel string) string { return s.prefix + rel }

// list pages through the prefix once, then believes the manifest's
// digests for the objects it still describes.
func (s *s3Store) list(ctx context.Context) (map[string]*remote, error) {
	objects := map[string]*remote{}
	var manifestSeen *remote
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, brief(err)
		}
		for _, o := range page.Contents {
			rel := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if rel == "" || strings.HasSuffix(rel, "/") {
				continue // folder placeholders some consoles make
			}
			r := &remote{Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), Modified: aws.ToTime(o.LastModified)}
			if rel == ManifestName {
				manifestSeen = r
				continue
			}
			objects[rel] = r
		}
	}
	if manifestSeen == nil {
		return objects, nil
	}
	data, err := s.read(ctx, ManifestName, maxManifestSize)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var m manifest
	if err != nil || json.Unmarshal(data, &m) != nil || m.Format != manifestFormat {
		return objects, nil // unreadable: HEAD each object instead
	}
	s.saved = m.Objects
	for rel, e := range m.Objects {
		if r := objects[rel]; r != nil && r.ETag == e.ETag && r.Size == e.Size && len(e.SHA256) == 64 {
			r.SHA256 = e.SHA256
		}
	}
	return objects, nil
}

// digest reads the sha256 stored at upload; an object without one (not
// uploaded by market publish) is downloaded and hashed.
func (s *s3Store) digest(ctx context.Context, rel string, r *remote) error {
	now, err := s.stat(ctx, rel)
	if err != nil {
		return err
	}
	if now == nil {
		return fmt.Errorf("deleted while publishing")
	}
	*r = *now
	if r.SHA256 != "" {
		return nil
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(rel))})
	if err != nil {
		return brief(err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return brief(err)
	}
	r.Size, r.ETag, r.SHA256 = n, aws.ToString(out.ETag), hex.EncodeToString(h.Sum(nil))
	return nil
}

func (s *s3Store) read(ctx context.Context, rel string, limit int64) ([]byte, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(rel))})
	if err != nil {
		return nil, brief(err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("larger than %d bytes", limit)
	}
	return data, err
}

func (s *s3Store) stat(ctx context.Context, rel string) (*remote, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(rel))})
	if status(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, brief(err)
	}
	r := &remote{Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag), Modified: aws.ToTime(out.LastModified)}
	for k, v := range out.Metadata {
		if strings.EqualFold(k, shaMeta) && len(v) == 64 {
			r.SHA256 = strings.ToLower(v)
		}
	}
	return r, nil
}

// put uploads f with its headers and its sha256 as metadata. A condition
// becomes If-Match (or If-None-Match: *); a store that does not implement
// conditional writes (501) gets a re-read and compare instead.
func (s *s3Store) put(ctx context.Context, f *localFile, cond *ifSame) (*remote, error) {
	in := &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           aws.String(s.key(f.Rel)),
		ContentLength: aws.Int64(f.Size),
		ContentType:   aws.String(f.Type),
		CacheControl:  aws.String(CacheControlFor(f.Rel, s.maxAge)),
		Metadata:      map[string]string{shaMeta: f.SHA256},
	}
	if cond != nil {
		if cond.want == nil {
			in.IfNoneMatch = aws.String("*")
		} else {
			in.IfMatch = aws.String(cond.want.ETag)
		}
	}
	out, err := s.putFile(ctx, in, f.Path)
	if cond != nil && status(err) == http.StatusNotImplemented {
		now, serr := s.stat(ctx, f.Rel)
		if serr != nil {
			return nil, serr
		}
		if !sameObject(now, cond.want) {
			return nil, errChanged
		}
		in.IfMatch, in.IfNoneMatch = nil, nil
		out, err = s.putFile(ctx, in, f.Path)
	}
	if cond != nil && (status(err) == http.StatusPreconditionFailed || status(err) == http.StatusConflict) {
		return nil, errChanged
	}
	if err != nil {
		return nil, brief(err)
	}
	return &remote{Size: f.Size, ETag: aws.ToString(out.ETag), SHA256: f.SHA256}, nil
}

// putFile sends the file at name as the body of in: a seekable body, so
// the retryer can send it again.
func (s *s3Store) putFile(ctx context.Context, in *s3.PutObjectInput, name string) (*s3.PutObjectOutput, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	in.Body = file
	return s.client.PutObject(ctx, in)
}

func (s *s3Store) remove(ctx context.Context, rel string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(s.key(rel))})
	return brief(err)
}

// save writes the manifest of every object whose digest is known, unless
// it is what the target holds already.
func (s *s3Store) save(ctx context.Context, objects map[string]*remote) error {
	m := manifest{Format: manifestFormat, Objects: map[string]manifestEntry{}}
	for rel, r := range objects {
		if r.SHA256 != "" && r.ETag != "" {
			m.Objects[rel] = manifestEntry{Size: r.Size, ETag: r.ETag, SHA256: r.SHA256}
		}
	}
	if maps.Equal(m.Objects, s.saved) {
		return nil
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           aws.String(s.key(ManifestName)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentType:   aws.String("application/json"),
		CacheControl:  aws.String("no-store"),
	})
	if err == nil {
		s.saved = m.Objects
	}
	return brief(err)
}

// s3Error words an SDK error in one short line, "Operation: Code: message
// (HTTP status) after N attempts", keeping it as the cause.
type s3Error struct {
	msg string
	err error
}

func (e *s3Error) Error() string { return e.msg }
func (e *s3Error) Unwrap() error { return e.err }

func brief(err error) error {
	var oe *smithy.OperationError
	if err == nil || !errors.As(err, &oe) {
		return err
	}
	msg := oe.Operation() + ": "
	var ae smithy.APIError
	var ue *url.Error
	var me *retry.MaxAttemptsError
	switch {
	case errors.As(err, &ae):
		msg += ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" {
			msg += ": " + m
		}
	case errors.As(err, &ue):
		msg += ue.Error() // the request could not be sent
	case errors.As(err, &me):
		msg += me.Err.Error()
	default:
		msg += oe.Err.Error()
	}
	if ae == nil && strings.Contains(msg, "get credentials") {
		msg = oe.Operation() + ": no usable AWS credentials (environment, shared config or SSO profile, web identity role): " + strings.TrimPrefix(msg, oe.Operation()+": ")
	}
	var notes []string
	if st := status(err); st != 0 {
		notes = append(notes, fmt.Sprintf("HTTP %d", st))
	}
	if errors.As(err, &me) {
		notes = append(notes, fmt.Sprintf("after %d attempts", me.Attempt))
	}
	if len(notes) > 0 {
		msg += " (" + strings.Join(notes, ", ") + ")"
	}
	return &s3Error{msg, err}
}

// status is the HTTP status of a failed request, 0 if there was none.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NotFound" {
		return http.StatusNotFound
	}
	return 0
}
