package ingest_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/peoplegraph/peoplegraph/ingest"
	"github.com/peoplegraph/peoplegraph/internal/dbtest"
	"github.com/peoplegraph/peoplegraph/storage"
)

// The seed corpora under testdata/fuzz/<Name>/ hold hostile inputs: malformed JSON,
// deep nesting, invalid UTF-8, huge numbers, 10,000 traits, odd keys, timestamps of
// year 0 and 9999, wrong types in every field.

var fuzzReceived = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

var validTypes = map[string]bool{
	ingest.TypeIdentify: true, ingest.TypeTrack: true, ingest.TypePage: true,
	ingest.TypeScreen: true, ingest.TypeGroup: true, ingest.TypeAlias: true,
}

// checkRequestError: a refused request is a *ingest.RequestError with a contract code.
func checkRequestError(t *testing.T, err error) {
	t.Helper()
	var re *ingest.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("error %T (%v) is not a *ingest.RequestError", err, err)
	}
	if re.Code != ingest.CodeInvalid && re.Code != ingest.CodeTooLarge {
		t.Fatalf("request error code %q", re.Code)
	}
	if re.Message == "" {
		t.Fatal("request error without a message")
	}
}

// checkMessage holds what every accepted message must satisfy before it is written.
func checkMessage(t *testing.T, m *ingest.Message) {
	t.Helper()
	if !validTypes[m.Type] {
		t.Fatalf("accepted a message of type %q", m.Type)
	}
	if m.MessageID == "" || len(m.MessageID) > ingest.MaxMessageIDLen {
		t.Fatalf("messageId %q", m.MessageID)
	}
	for name, s := range map[string]string{"messageId": m.MessageID, "userId": m.UserID, "anonymousId": m.AnonymousID,
		"previousId": m.PreviousID, "groupId": m.GroupID, "event": m.Event, "name": m.Name, "category": m.Category} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("%s %q is not clean text", name, s)
		}
		if s != strings.TrimSpace(s) {
			t.Fatalf("%s %q is not trimmed", name, s)
		}
	}
	switch {
	case m.Type == ingest.TypeAlias && (m.UserID == "" || m.PreviousID == ""):
		t.Fatal("alias without userId or previousId")
	case m.Type != ingest.TypeAlias && m.UserID == "" && m.AnonymousID == "":
		t.Fatal("message without userId and anonymousId")
	case m.Type == ingest.TypeTrack && m.Event == "":
		t.Fatal("track without event")
	case m.Type == ingest.TypeGroup && m.GroupID == "":
		t.Fatal("group without groupId")
	}
	if m.Time.IsZero() || m.Time.Location() != time.UTC {
		t.Fatalf("event time %v", m.Time)
	}
}

func checkDecoded(t *testing.T, d *ingest.Decoded) {
	t.Helper()
	if len(d.Messages) != len(d.Indexes) {
		t.Fatalf("%d messages, %d indexes", len(d.Messages), len(d.Indexes))
	}
	seen := map[int]bool{}
	for i := range d.Messages {
		checkMessage(t, &d.Messages[i])
		seen[d.Indexes[i]] = true
	}
	for _, r := range d.Rejected {
		if seen[r.Index] {
			t.Fatalf("index %d both accepted and rejected", r.Index)
		}
		seen[r.Index] = true
		if r.Code != ingest.CodeInvalid && r.Code != ingest.CodeTooLarge {
			t.Fatalf("rejection code %q", r.Code)
		}
		if r.Message == "" {
			t.Fatalf("rejection of %d without a message", r.Index)
		}
	}
	for i := 0; i < len(seen); i++ {
		if !seen[i] {
			t.Fatalf("message %d is neither accepted nor rejected", i)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`{"batch":[{"type":"identify","userId":"u","traits":{"a":1}},{"type":"track","anonymousId":"a","event":"e"}],"sentAt":"2024-01-01T00:00:00Z","context":{"ip":"1.2.3.4"}}`))
	f.Add([]byte(`{"batch":[{"type":"alias","previousId":"a","userId":"u"},{"type":"group","userId":"u","groupId":"g"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := ingest.DecodeBatch(body, fuzzReceived)
		if err != nil {
			if d != nil {
				t.Fatal("a result beside an error")
			}
			checkRequestError(t, err)
			return
		}
		checkDecoded(t, d)
		if len(d.Messages)+len(d.Rejected) > ingest.MaxBatchMessages {
			t.Fatalf("a batch of %d messages was accepted", len(d.Messages)+len(d.Rejected))
		}
	})
}

func FuzzDecodeSingle(f *testing.F) {
	f.Add([]byte(`{"userId":"u","traits":{"email":"a@example.com"}}`), "identify")
	f.Add([]byte(`{"type":"page","anonymousId":"a","properties":{"url":"https://example.com/"}}`), "")
	f.Fuzz(func(t *testing.T, body []byte, typ string) {
		d, err := ingest.DecodeSingle(body, typ, fuzzReceived)
		if err != nil {
			if d != nil {
				t.Fatal("a result beside an error")
			}
			checkRequestError(t, err)
			return
		}
		checkDecoded(t, d)
		if len(d.Messages) != 1 || len(d.Rejected) != 0 {
			t.Fatalf("a single call decoded to %d messages and %d rejections", len(d.Messages), len(d.Rejected))
		}
		if validTypes[typ] && d.Messages[0].Type != typ {
			t.Fatalf("/v1/%s accepted a %s", typ, d.Messages[0].Type)
		}
	})
}

// corpusEntry is one seed file: its name and its arguments.
type corpusEntry struct {
	name string
	args []string
}

// readCorpus reads the committed seed corpus of a fuzz test ("go test fuzz v1" files
// whose arguments are []byte(…) or string(…) literals).
func readCorpus(t *testing.T, fuzzName string) []corpusEntry {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", fuzzName)
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusEntry
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a corpus file", f.Name())
		}
		e := corpusEntry{name: f.Name()}
		for _, l := range lines[1:] {
			open := strings.IndexByte(l, '(')
			if open < 0 || !strings.HasSuffix(l, ")") {
				t.Fatalf("%s: cannot read %q", f.Name(), l)
			}
			s, err := strconv.Unquote(l[open+1 : len(l)-1])
			if err != nil {
				t.Fatalf("%s: %v", f.Name(), err)
			}
			e.args = append(e.args, s)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		t.Fatalf("no corpus in %s", dir)
	}
	return out
}

// TestHostileBodiesOverHTTP posts every seed of both corpora to the real router: the
// answer is 200 or a 4xx with its code, never a 5xx (a permanent problem answered 503
// would be retried forever). Then everything stored must still be readable.
func TestHostileBodiesOverHTTP(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		post := func(name, path string, body []byte) {
			t.Helper()
			res := e.postRaw(path, body)
			switch {
			case res.Status == http.StatusOK:
				if res.JSON(t)["success"] != true {
					t.Errorf("%s: 200 without success: %.300s", name, res.Body)
				}
			case res.Status >= 400 && res.Status < 500:
				if code, _ := res.JSON(t)["code"].(string); code == "" {
					t.Errorf("%s: %d without a code: %.300s", name, res.Status, res.Body)
				}
			default:
				t.Errorf("%s: POST %s answered %d: %.300s", name, path, res.Status, res.Body)
			}
		}
		for _, c := range readCorpus(t, "FuzzDecodeBatch") {
			post("FuzzDecodeBatch/"+c.name, "/v1/batch", []byte(c.args[0]))
		}
		for _, c := range readCorpus(t, "FuzzDecodeSingle") {
			path := "/v1/webhook"
			if validTypes[c.args[1]] {
				path = "/v1/" + c.args[1]
			}
			post("FuzzDecodeSingle/"+c.name, path, []byte(c.args[0]))
		}

		// What was stored can be read back.
		ctx, client := e.ctx(), e.client()
		if _, err := client.User.Query().All(ctx); err != nil {
			t.Errorf("read users: %v", err)
		}
		if _, err := client.Company.Query().All(ctx); err != nil {
			t.Errorf("read companies: %v", err)
		}
		if _, err := client.PageView.Query().All(ctx); err != nil {
			t.Errorf("read page views: %v", err)
		}
		if _, err := client.EventOccurrence.Query().All(ctx); err != nil {
			t.Errorf("read occurrences: %v", err)
		}
		if _, err := client.AttributeDefinition.Query().All(ctx); err != nil {
			t.Errorf("read attribute definitions: %v", err)
		}
		// A few outcomes the corpus makes certain.
		if e.userByUserID("traits-10000") != nil {
			t.Error("the 10,000-trait message (too large) was stored")
		}
		if u := e.mustUser("traits-2900"); len(u.Attributes) != 2900 {
			t.Errorf("the 2,900-trait message stored %d attributes", len(u.Attributes))
		}
	})
}
