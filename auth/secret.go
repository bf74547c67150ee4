// Package auth issues API keys and turns a presented secret into a viewer. A secret is
// shown once; the database keeps its SHA-256 hash and a short display prefix.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/peoplegraph/peoplegraph/ent/apikey"
)

// MinSecretLength is the shortest secret accepted from configuration. Generated secrets
// carry 32 random bytes; a fixed one (bootstrap variables) must still resist guessing.
const MinSecretLength = 24

// prefixLength is how much of a secret is kept in clear to tell keys apart.
const prefixLength = 12

// NewSecret returns a fresh random secret for a key of kind. The kind is visible in the
// secret ("pgs_" or "pga_") so that a leaked one is easy to classify and to grep for.
func NewSecret(kind apikey.Kind) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	lead := "pgs_"
	if kind == apikey.KindADMIN {
		lead = "pga_"
	}
	return lead + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Hash is the stored form of a secret. A plain SHA-256 is enough: secrets are random
// and long, so there is nothing for a slow hash to protect.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// DisplayPrefix is the part of a secret kept in clear.
func DisplayPrefix(secret string) string {
	if len(secret) <= prefixLength {
		return secret[:len(secret)/2]
	}
	return secret[:prefixLength]
}

// ValidateFixedSecret checks a secret that comes from configuration instead of NewSecret.
func ValidateFixedSecret(secret string) error {
	if len(secret) < MinSecretLength {
		return fmt.Errorf("a fixed key must have at least %d characters", MinSecretLength)
	}
	return nil
}
