package signature

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"strings"
	"testing"
)

// FuzzVerify checks Verify against crypto/hmac for arbitrary secrets, bodies and headers,
// and feeds it arbitrary stored states, which must never panic.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("secret"), []byte(`{"type":"identify"}`), "", []byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 65), []byte{}, "da39a3ee5e6b4b0d3255bfef95601890afd80709", []byte{1, 96})
	f.Add([]byte{0}, []byte("\x00"), "GG39a3ee5e6b4b0d3255bfef95601890afd80709", []byte("\x01\x60sha\x01"))
	f.Fuzz(func(t *testing.T, secret, body []byte, header string, state []byte) {
		// Arbitrary states: no panic, and nothing to assert about the answer.
		Verify(state, body, header)

		if len(secret) == 0 {
			if _, err := NewState(secret); err == nil {
				t.Fatal("NewState accepted an empty secret")
			}
			return
		}
		st, err := NewState(secret)
		if err != nil {
			t.Fatalf("NewState: %v", err)
		}
		good := sign(secret, body)
		if !Verify(st, body, good) {
			t.Fatalf("valid signature refused: secret %q body %q", secret, body)
		}
		want := false
		if h, err := hex.DecodeString(strings.TrimSpace(header)); err == nil {
			g, _ := hex.DecodeString(good)
			want = hmac.Equal(h, g)
		}
		if got := Verify(st, body, header); got != want {
			t.Fatalf("Verify(%q) = %v, want %v", header, got, want)
		}
		// Any change of one byte of the stored state either breaks parsing or changes
		// the MAC: no byte of the format is ignored.
		if len(state) > 0 {
			i := int(state[0]) % len(st)
			mut := bytes.Clone(st)
			mut[i] ^= 1 | state[len(state)-1]
			if Verify(mut, body, good) {
				t.Fatalf("state with byte %d changed still verifies", i)
			}
		}
	})
}
