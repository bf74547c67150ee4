package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/apikey"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// Errors of Authenticate; the HTTP layers map them to their protocol's codes.
var (
	ErrNoCredentials = errors.New("no credentials")
	ErrUnknownKey    = errors.New("unknown key")
	ErrRevokedKey    = errors.New("key revoked")
	ErrWrongKind     = errors.New("key of the wrong kind")
)

// Authenticator finds the key of a secret. Lookups are cached for CacheTTL, which is
// also how long a revoked key can still be accepted on a node that saw it before.
type Authenticator struct {
	client   *ent.Client
	cacheTTL time.Duration
	now      func() time.Time

	mu     sync.Mutex
	cache  map[string]cachedKey // by secret hash
	flight singleflight.Group
}

type cachedKey struct {
	key     *ent.ApiKey // nil: no such key
	fetched time.Time
	// lastUsedWrite is when this node last wrote last_used_at for the key.
	lastUsedWrite time.Time
}

// DefaultCacheTTL keeps a revocation effective within two seconds on every node.
const DefaultCacheTTL = 2 * time.Second

// lastUsedResolution: last_used_at is written at most once a minute per key and node.
const lastUsedResolution = time.Minute

// NewAuthenticator returns an Authenticator over client.
func NewAuthenticator(client *ent.Client, cacheTTL time.Duration) *Authenticator {
	if cacheTTL <= 0 {
		cacheTTL = DefaultCacheTTL
	}
	return &Authenticator{client: client, cacheTTL: cacheTTL, now: time.Now, cache: map[string]cachedKey{}}
}

// Authenticate returns the viewer of secret when it is a live key of kind.
func (a *Authenticator) Authenticate(ctx context.Context, secret string, kind apikey.Kind) (viewer.Viewer, error) {
	if secret == "" {
		return viewer.Viewer{}, ErrNoCredentials
	}
	hash := Hash(secret)
	key, err := a.lookup(ctx, hash)
	if err != nil {
		return viewer.Viewer{}, err
	}
	switch {
	case key == nil:
		return viewer.Viewer{}, ErrUnknownKey
	case key.RevokedAt != nil:
		return viewer.Viewer{}, ErrRevokedKey
	case key.Kind != kind:
		return viewer.Viewer{}, ErrWrongKind
	}
	a.touch(ctx, hash, key)
	return viewer.Viewer{AppID: key.AppID, KeyID: key.ID, Role: viewer.Role(key.Kind)}, nil
}

func (a *Authenticator) lookup(ctx context.Context, hash string) (*ent.ApiKey, error) {
	now := a.now()
	a.mu.Lock()
	c, ok := a.cache[hash]
	a.mu.Unlock()
	if ok && now.Sub(c.fetched) < a.cacheTTL {
		return c.key, nil
	}
	// Concurrent misses for one key share one query: after an outage, a burst of retries
	// must not queue one lookup per request on the pool.
	v, err, _ := a.flight.Do(hash, func() (any, error) {
		key, err := a.client.ApiKey.Query().
			Where(apikey.SecretHash(hash)).
			Only(viewer.SystemContext(context.WithoutCancel(ctx)))
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		return key, nil
	})
	if err != nil {
		return nil, err
	}
	key, _ := v.(*ent.ApiKey)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) > 10_000 {
		// Unknown secrets are cached too; a flood of them must not grow memory forever.
		clear(a.cache)
	}
	a.cache[hash] = cachedKey{key: key, fetched: now, lastUsedWrite: c.lastUsedWrite}
	return key, nil
}

// touch records that the key was used, coarsely: the write is skipped when this node
// wrote it within a minute, and the UPDATE's condition skips it when another node did.
func (a *Authenticator) touch(ctx context.Context, hash string, key *ent.ApiKey) {
	now := a.now().UTC()
	a.mu.Lock()
	c := a.cache[hash]
	due := now.Sub(c.lastUsedWrite) >= lastUsedResolution
	if due {
		c.lastUsedWrite = now
		a.cache[hash] = c
	}
	a.mu.Unlock()
	if !due {
		return
	}
	// Best effort: failing to record usage must not fail the request.
	_, _ = a.client.ApiKey.Update().
		Where(
			apikey.ID(key.ID),
			apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLT(now.Add(-lastUsedResolution))),
		).
		SetLastUsedAt(now).
		Save(viewer.SystemContext(ctx))
}

// Forget drops cached lookups, so a revocation made through this node is effective at
// once here (other nodes see it within the cache TTL).
func (a *Authenticator) Forget() {
	a.mu.Lock()
	clear(a.cache)
	a.mu.Unlock()
}
