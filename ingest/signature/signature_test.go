package signature

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"
)

func sign(secret, body []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func mustState(t testing.TB, secret []byte) []byte {
	t.Helper()
	st, err := NewState(secret)
	if err != nil {
		t.Fatalf("NewState(%q): %v", secret, err)
	}
	return st
}

// TestAgreesWithHMAC covers key lengths around the block size, where HMAC switches
// from padding the key to hashing it first.
func TestAgreesWithHMAC(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lengths := []int{1, 2, 19, 20, 21, 32, 63, 64, 65, 100, 128, 129, 1000}
	for _, n := range lengths {
		for range 20 {
			secret := make([]byte, n)
			for i := range secret {
				secret[i] = byte(r.Uint32())
			}
			body := make([]byte, r.IntN(300))
			for i := range body {
				body[i] = byte(r.Uint32())
			}
			st := mustState(t, secret)
			h := sign(secret, body)
			if !Verify(st, body, h) {
				t.Fatalf("secret len %d, body len %d: valid signature refused", n, len(body))
			}
			if !Verify(st, body, strings.ToUpper(h)) {
				t.Fatalf("upper-case hex refused")
			}
		}
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("whsec_correct horse battery staple")
	body := []byte(`{"type":"identify","userId":"u1","traits":{"email":"a@b.c"}}`)
	st := mustState(t, secret)
	good := sign(secret, body)
	// A known answer, so the test does not only compare against crypto/hmac's own output.
	known := sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog"))
	if known != "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9" {
		t.Fatalf("reference HMAC = %s", known)
	}

	flipped := []byte(good)
	if flipped[0] == 'a' {
		flipped[0] = 'b'
	} else {
		flipped[0] = 'a'
	}
	cases := []struct {
		name   string
		state  []byte
		body   []byte
		header string
		want   bool
	}{
		{"valid", st, body, good, true},
		{"known answer", mustState(t, []byte("key")), []byte("The quick brown fox jumps over the lazy dog"), "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9", true},
		{"surrounding space", st, body, "  " + good + "\t", true},
		{"upper case", st, body, strings.ToUpper(good), true},
		{"wrong secret", mustState(t, []byte("whsec_other")), body, good, false},
		{"secret prefix", mustState(t, secret[:len(secret)-1]), body, good, false},
		{"secret with trailing zero", mustState(t, append(append([]byte{}, secret...), 0)), body, good, true}, // HMAC pads keys with zeros: an inherent HMAC equivalence
		{"body changed", st, append(append([]byte{}, body...), ' '), good, false},
		{"empty body", st, nil, good, false},
		{"empty body valid", st, nil, sign(secret, nil), true},
		{"one digit changed", st, body, string(flipped), false},
		{"empty header", st, body, "", false},
		{"short header", st, body, good[:38], false},
		{"long header", st, body, good + "00", false},
		{"non-hex", st, body, "zz" + good[2:], false},
		{"sha1= prefix", st, body, "sha1=" + good, false},
		{"base64", st, body, "3nybhbi3iqa8inp2g3cQcBydtNk=", false},
		{"inner space", st, body, good[:20] + " " + good[21:], false},
		{"nil state", nil, body, good, false},
		{"empty state", []byte{}, body, good, false},
		{"bad version", append([]byte{2}, st[1:]...), body, good, false},
		{"truncated state", st[:len(st)-1], body, good, false},
		{"extended state", append(append([]byte{}, st...), 0), body, good, false},
		{"bad inner magic", func() []byte { b := bytes.Clone(st); b[2] ^= 1; return b }(), body, good, false},
		{"tampered outer h", func() []byte { b := bytes.Clone(st); b[2+stateSize+6] ^= 1; return b }(), body, good, false},
		{"size byte lies", func() []byte { b := bytes.Clone(st); b[1]--; return b }(), body, good, false},
		{"secret itself as state", secret, body, good, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Verify(c.state, c.body, c.header); got != c.want {
				t.Errorf("Verify = %v, want %v", got, c.want)
			}
		})
	}
}

func TestNewState(t *testing.T) {
	if _, err := NewState(nil); err == nil {
		t.Error("NewState(nil) succeeded")
	}
	if _, err := NewState([]byte{}); err == nil {
		t.Error("NewState(empty) succeeded")
	}
	cases := []struct {
		name   string
		secret []byte
	}{
		{"short", []byte("s3cr3t-webhook-key")},
		{"block", bytes.Repeat([]byte("k"), 64)},
		{"long", bytes.Repeat([]byte("0123456789abcdef"), 9)},
		{"binary", []byte{0, 1, 2, 0x36, 0x5c, 0xff}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := mustState(t, c.secret)
			if len(st) != 2+2*stateSize || st[0] != version || int(st[1]) != stateSize {
				t.Fatalf("state layout: len %d, header % x", len(st), st[:2])
			}
			st2 := mustState(t, c.secret)
			if !bytes.Equal(st, st2) {
				t.Error("NewState is not deterministic")
			}
			// Neither the secret nor its padded forms may be in the stored form. Short
			// windows are skipped: a few bytes can coincide by chance.
			key := make([]byte, 64)
			copy(key, c.secret)
			if len(c.secret) > 64 {
				sum := sha1.Sum(c.secret)
				key = make([]byte, 64)
				copy(key, sum[:])
			}
			ipad, opad := make([]byte, 64), make([]byte, 64)
			for i := range key {
				ipad[i], opad[i] = key[i]^0x36, key[i]^0x5c
			}
			for _, needle := range [][]byte{c.secret, key, ipad, opad} {
				if len(needle) >= 6 && bytes.Contains(st, needle) {
					t.Errorf("state contains secret material % x", needle)
				}
			}
			for i := 0; i+8 <= len(c.secret); i++ {
				if bytes.Contains(st, c.secret[i:i+8]) {
					t.Errorf("state contains 8 secret bytes at %d", i)
				}
			}
		})
	}
}

func TestConcurrentVerify(t *testing.T) {
	secret := []byte("shared")
	st := mustState(t, secret)
	done := make(chan bool)
	for g := range 8 {
		go func() {
			ok := true
			for i := range 200 {
				body := []byte(strings.Repeat("x", g*i))
				ok = ok && Verify(st, body, sign(secret, body))
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("concurrent Verify failed")
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	secret := []byte("whsec_benchmark_secret_value")
	body := bytes.Repeat([]byte(`{"type":"track","event":"Order Completed"}`), 25) // ~1 KB
	st := mustState(b, secret)
	h := sign(secret, body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !Verify(st, body, h) {
			b.Fatal("refused")
		}
	}
}

// TestNoIgnoredStateBytes flips every bit of a stored state: each flip must make a valid
// signature fail, so nothing can be smuggled into, or rot unnoticed in, the column.
func TestNoIgnoredStateBytes(t *testing.T) {
	secret, body := []byte("k"), []byte("body")
	st := mustState(t, secret)
	good := sign(secret, body)
	for i := range st {
		for bit := range 8 {
			mut := bytes.Clone(st)
			mut[i] ^= 1 << bit
			if Verify(mut, body, good) {
				t.Errorf("byte %d bit %d flipped: still verifies", i, bit)
			}
		}
	}
}
