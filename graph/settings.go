package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/peoplegraph/peoplegraph/ingest/signature"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// maxName bounds display names (keys, attribute definitions, events).
const maxName = 200

// maxWebhookSecret bounds a webhook secret set by hand.
const maxWebhookSecret = 1024

// displayName validates a name people read: trimmed, not empty, at most maxName runes.
func displayName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", BadInput(field, "must not be empty")
	case !utf8.ValidString(name):
		return "", BadInput(field, "must be valid UTF-8")
	case utf8.RuneCountInString(name) > maxName:
		return "", BadInput(field, "at most 200 characters")
	}
	return name, nil
}

// setWebhookSecret stores the one-way form of secret on the viewer's app.
func (r *Resolver) setWebhookSecret(ctx context.Context, secret string) error {
	state, err := signature.NewState([]byte(secret))
	if err != nil {
		return BadInput("secret", err.Error())
	}
	v, _ := viewer.FromContext(ctx)
	return r.Client.App.UpdateOneID(v.AppID).SetWebhookHmacState(state).Exec(ctx)
}

// newWebhookSecret is 32 random bytes in hex.
func newWebhookSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
