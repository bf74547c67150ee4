package bench

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/ingest"
)

// The generator writes its bodies by hand; they must be what ingestion accepts, with the
// mix of types the benchmark claims.
func TestGeneratorBodiesAreValidSegmentCalls(t *testing.T) {
	g := &generator{users: 50, run: "t"}
	types := map[string]int{}
	for range 20 {
		body := g.batch(100, false)
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %s", body)
		}
		dec, err := ingest.DecodeBatch(body, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(dec.Rejected) > 0 || len(dec.Messages) != 100 {
			t.Fatalf("rejected %v, kept %d of 100", dec.Rejected, len(dec.Messages))
		}
		for _, m := range dec.Messages {
			types[m.Type]++
		}
	}
	for _, typ := range []string{"identify", "page", "track", "group"} {
		if types[typ] == 0 {
			t.Errorf("no %s call in 2,000 messages: %v", typ, types)
		}
	}
	if types["page"] < types["identify"] || types["track"] < types["group"] {
		t.Errorf("mix far from identify 10 %%, page 45 %%, track 40 %%, group 5 %%: %v", types)
	}
	warm := g.batch(10, true)
	if dec, err := ingest.DecodeBatch(warm, time.Now()); err != nil || len(dec.Messages) != 10 || dec.Messages[0].Traits["email"] == nil {
		t.Fatalf("warm-up batch: %v %+v", err, dec)
	}
	for range 50 {
		path, body := g.single()
		typ := path[len("/v1/"):]
		dec, err := ingest.DecodeSingle(body, typ, time.Now())
		if err != nil || len(dec.Messages) != 1 || dec.Messages[0].Type != typ {
			t.Fatalf("%s %s: %v", path, body, err)
		}
	}
}
