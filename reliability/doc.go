// Package reliability holds end-to-end tests of what peoplegraph promises when things go
// wrong: the real server, on a real listener, fed by the real Segment client while the
// database connection is cut (fault_test.go, PostgreSQL through internal/faultproxy), and
// while the server is shut down under load (shutdown_test.go, SQLite and PostgreSQL).
// Each test checks, message by message, that nothing acknowledged is lost and nothing
// retried is counted twice. partition_test.go reproduces a known gap (a database that
// stops answering without closing connections) and runs only when asked to.
// docs/reliability.md lists the promises, where each is tested, and the known gaps. The
// package has no code of its own: everything is in its _test.go files.
package reliability
