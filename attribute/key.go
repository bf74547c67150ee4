package attribute

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxKeyLength is the longest attribute key, in bytes. Keys are indexed and shown in the
// admin UI; 128 bytes is far beyond any real trait name.
const MaxKeyLength = 128

// ValidateKey checks an attribute key: non-empty after trimming, at most MaxKeyLength
// bytes, valid UTF-8, no control characters. Every other character is allowed; see the
// package documentation for why.
func ValidateKey(key string) error {
	if strings.TrimSpace(key) == "" {
		return errors.New("attribute key is empty")
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("attribute key is longer than %d bytes", MaxKeyLength)
	}
	if !utf8.ValidString(key) {
		return errors.New("attribute key is not valid UTF-8")
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return fmt.Errorf("attribute key contains the control character %U", r)
		}
	}
	return nil
}
