package reliability

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/peoplegraph/peoplegraph/auth"
)

// TestDatabasePartition: the database stops answering without closing anything (a
// network partition, a host that died, a failover to an address that is not up yet).
// The contract still holds: ingestion answers 503 with Retry-After, /readyz fails within
// its 2 s bound, and both recover when the network does.
//
// lib/pq cancels a query on context expiry by sending a CancelRequest over a new
// connection, which the partition swallows too, and never interrupts the read it is
// blocked in; so the server bounds the waiting itself (ingest.requestDeadline, the
// readiness ping) instead of relying on the driver.
func TestDatabasePartition(t *testing.T) {
	requirePostgres(t)
	env := proxiedServer(t)
	client := &http.Client{Timeout: 15 * time.Second}
	track := func() (int, string, time.Duration, error) {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/v1/track", bytes.NewReader([]byte(`{"userId":"p1","event":"Partitioned"}`)))
		req.SetBasicAuth(env.app.SegmentSecret, "")
		res, err := client.Do(req)
		if err != nil {
			return 0, "", time.Since(start), err
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Retry-After"), time.Since(start), nil
	}
	if st, _, _, err := track(); st != http.StatusOK {
		t.Fatalf("before the partition: %d %v", st, err)
	}

	env.proxy.Blackhole()
	time.Sleep(auth.DefaultCacheTTL + 500*time.Millisecond) // cached key and settings expire
	start := time.Now()
	st, err := get(client, env.srv.URL+"/readyz")
	if took := time.Since(start); st != http.StatusServiceUnavailable || took > 5*time.Second {
		t.Errorf("/readyz during the partition: %d %v after %s; want 503 within its 2 s bound", st, err, took.Round(time.Millisecond))
	}
	st, retryAfter, took, err := track()
	if st != http.StatusServiceUnavailable || retryAfter == "" || took > 10*time.Second {
		t.Errorf("ingestion during the partition: %d (Retry-After %q) %v after %s; want 503 with Retry-After within 10 s",
			st, retryAfter, err, took.Round(time.Millisecond))
	}

	env.proxy.Restore()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _, _, err := track()
		if st == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingestion after the partition healed: %d %v", st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	env.srv.Running(t)
}
