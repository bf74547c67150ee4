// Package signature verifies the X-Signature header of Segment's Webhooks destination
// (hex HMAC-SHA1 of the raw request body under a shared secret) without keeping the
// secret itself.
//
// HMAC(K, m) = H((K' ⊕ opad) ‖ H((K' ⊕ ipad) ‖ m)), where K' is the key padded to one
// block (hashed first when longer than a block). Both padded keys fill exactly one SHA-1
// block, so the hash state after absorbing each one is a compression-function output; RFC
// 2104 section 4 suggests storing those two states to save work. Here they are stored to
// avoid keeping the secret: recovering K' from them means inverting SHA-1's compression
// function. The states are still a credential — whoever holds them can sign bodies — so
// they must be treated as secret (the App schema marks the column Sensitive).
//
// The stored form is
//
//	version (1 byte, 1) ‖ n (1 byte) ‖ inner state (n bytes) ‖ outer state (n bytes)
//
// where a state is what crypto/sha1's digest MarshalBinary produces. Anything else is
// rejected by Verify, which then reports false rather than failing loudly: a corrupt
// stored state must refuse every request, never accept one.
package signature

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
)

const version = 1

// stateSize is the length of one marshaled SHA-1 state. It is taken from the standard
// library rather than hard-coded so that a change of format there is caught by NewState
// and the tests instead of producing states Verify cannot read.
var stateSize = func() int {
	b, err := sha1.New().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return 0
	}
	return len(b)
}()

// NewState returns the stored form of secret: the two precomputed HMAC-SHA1 states,
// versioned and length-prefixed. An empty secret is refused, since it would let anyone
// compute valid signatures.
func NewState(secret []byte) ([]byte, error) {
	if len(secret) == 0 {
		return nil, errors.New("signature: empty secret")
	}
	if stateSize == 0 || stateSize > 255 {
		return nil, errors.New("signature: SHA-1 state cannot be serialized")
	}
	key := make([]byte, sha1.BlockSize)
	if len(secret) > sha1.BlockSize {
		sum := sha1.Sum(secret)
		copy(key, sum[:])
		clear(sum[:])
	} else {
		copy(key, secret)
	}
	// Wipe the padded key copies once absorbed: they are the secret in all but name.
	defer clear(key)

	out := make([]byte, 0, 2+2*stateSize)
	out = append(out, version, byte(stateSize))
	block := make([]byte, sha1.BlockSize)
	defer clear(block)
	for _, pad := range []byte{0x36, 0x5c} { // RFC 2104's ipad, then opad
		for i := range block {
			block[i] = key[i] ^ pad
		}
		h := sha1.New()
		if _, err := h.Write(block); err != nil {
			return nil, err // e.g. SHA-1 forbidden in FIPS 140-only mode
		}
		m, ok := h.(encoding.BinaryAppender)
		if !ok {
			return nil, errors.New("signature: SHA-1 state cannot be serialized")
		}
		var err error
		if out, err = m.AppendBinary(out); err != nil {
			return nil, err
		}
	}
	if len(out) != 2+2*stateSize {
		return nil, errors.New("signature: unexpected SHA-1 state size")
	}
	return out, nil
}

// Verify reports whether header is the hex HMAC-SHA1 of body under the secret state was
// made from. Hex digits may be upper or lower case and surrounding white space is
// ignored; anything else malformed in header or state yields false. The comparison of
// the MACs is constant-time.
func Verify(state []byte, body []byte, header string) bool {
	header = strings.TrimSpace(header)
	if len(header) != 2*sha1.Size {
		return false
	}
	var got [sha1.Size]byte
	if _, err := hex.Decode(got[:], []byte(header)); err != nil {
		return false
	}
	inner, outer, ok := restore(state)
	if !ok {
		return false
	}
	if _, err := inner.Write(body); err != nil {
		return false
	}
	var sum [sha1.Size]byte
	if _, err := outer.Write(inner.Sum(sum[:0])); err != nil {
		return false
	}
	want := outer.Sum(sum[:0])
	return subtle.ConstantTimeCompare(got[:], want) == 1
}

// restore parses the stored form back into the two hash states.
func restore(state []byte) (inner, outer hash.Hash, ok bool) {
	if len(state) < 2 || state[0] != version {
		return nil, nil, false
	}
	n := int(state[1])
	if n == 0 || n != stateSize || len(state) != 2+2*n {
		return nil, nil, false
	}
	inner, outer = sha1.New(), sha1.New()
	iu, ok1 := inner.(encoding.BinaryUnmarshaler)
	ou, ok2 := outer.(encoding.BinaryUnmarshaler)
	if !ok1 || !ok2 {
		return nil, nil, false
	}
	if !load(inner, iu, state[2:2+n]) || !load(outer, ou, state[2+n:]) {
		return nil, nil, false
	}
	return inner, outer, true
}

// load restores one state and insists it is exactly what NewState writes: one whole
// block absorbed (the format ends with the big-endian byte count) and nothing else set,
// so that no byte of a stored state is free to carry anything.
func load(h hash.Hash, u encoding.BinaryUnmarshaler, b []byte) bool {
	if len(b) < 8 || binary.BigEndian.Uint64(b[len(b)-8:]) != sha1.BlockSize {
		return false
	}
	if u.UnmarshalBinary(b) != nil {
		return false
	}
	a, ok := h.(encoding.BinaryAppender)
	if !ok {
		return false
	}
	var buf [128]byte
	again, err := a.AppendBinary(buf[:0])
	return err == nil && bytes.Equal(again, b)
}
