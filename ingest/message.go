// Package ingest turns Segment messages into profiles: it decodes and validates them
// (message.go), resolves who each one is about and writes a whole request in one
// transaction (batch.go), behind a small HTTP driver compatible with Segment's HTTP
// Tracking API (http.go).
package ingest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/peoplegraph/peoplegraph/attribute"
)

// Limits of Segment's own API.
const (
	MaxMessageBytes  = 32 << 10
	MaxRequestBytes  = 500 << 10
	MaxBatchMessages = 2500
	MaxMessageIDLen  = 100
	// maxIDLen bounds userId, anonymousId, groupId, event names.
	maxIDLen = 255
)

// Message types.
const (
	TypeIdentify = "identify"
	TypeTrack    = "track"
	TypePage     = "page"
	TypeScreen   = "screen"
	TypeGroup    = "group"
	TypeAlias    = "alias"
)

// Message is one validated Segment call.
type Message struct {
	Type        string
	MessageID   string
	UserID      string
	AnonymousID string
	PreviousID  string
	GroupID     string
	Event       string
	Name        string
	Category    string
	Traits      map[string]any
	Properties  map[string]any
	Context     map[string]any
	// Time is when the call happened (PRODUCT.md 2: timestamp, skew-corrected, or receipt).
	Time time.Time
}

// Rejection is why one message of a request was not stored.
type Rejection struct {
	Index     int    `json:"index"`
	MessageID string `json:"messageId,omitempty"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// Rejection codes.
const (
	CodeInvalid  = "invalid_request"
	CodeTooLarge = "too_large"
)

// envelope is what a batch request carries besides its messages; its context,
// integrations and sentAt apply to every message (analytics-go sends its library
// context only here).
type envelope struct {
	Batch        []json.RawMessage `json:"batch"`
	Context      map[string]any    `json:"context"`
	Integrations map[string]any    `json:"integrations"`
	SentAt       any               `json:"sentAt"`
	WriteKey     any               `json:"writeKey"`
}

// rawMessage is a message as sent; loose types, so validation can say what is wrong.
type rawMessage struct {
	Type              any            `json:"type"`
	MessageID         any            `json:"messageId"`
	UserID            any            `json:"userId"`
	AnonymousID       any            `json:"anonymousId"`
	PreviousID        any            `json:"previousId"`
	GroupID           any            `json:"groupId"`
	Event             any            `json:"event"`
	Name              any            `json:"name"`
	Category          any            `json:"category"`
	Traits            any            `json:"traits"`
	Properties        any            `json:"properties"`
	Context           any            `json:"context"`
	Timestamp         any            `json:"timestamp"`
	OriginalTimestamp any            `json:"originalTimestamp"`
	SentAt            any            `json:"sentAt"`
	WriteKey          any            `json:"writeKey"`
	Integrations      map[string]any `json:"-"`
}

// RequestError is a problem with a whole request (as opposed to one message of a batch).
type RequestError struct {
	Code    string
	Message string
}

func (e *RequestError) Error() string { return e.Code + ": " + e.Message }

func invalid(format string, args ...any) *RequestError {
	return &RequestError{Code: CodeInvalid, Message: fmt.Sprintf(format, args...)}
}

// Decoded is a request's messages, its rejections and the write key found in the body.
type Decoded struct {
	Messages []Message
	// Indexes[i] is the position of Messages[i] in the request.
	Indexes  []int
	Rejected []Rejection
	WriteKey string
}

// DecodeBatch reads a /v1/batch (or /v1/import) body.
func DecodeBatch(body []byte, received time.Time) (*Decoded, error) {
	var env envelope
	if err := decodeJSON(body, &env); err != nil {
		return nil, err
	}
	if env.Batch == nil {
		return nil, invalid(`"batch" must be an array of messages`)
	}
	if len(env.Batch) > MaxBatchMessages {
		return nil, &RequestError{Code: CodeTooLarge, Message: fmt.Sprintf("a batch holds at most %d messages", MaxBatchMessages)}
	}
	out := &Decoded{WriteKey: stringOf(env.WriteKey)}
	for i, raw := range env.Batch {
		m, rej := decodeOne(raw, "", env.Context, env.SentAt, received)
		if rej != nil {
			rej.Index = i
			rej.MessageID = rejectedMessageID(raw)
			out.Rejected = append(out.Rejected, *rej)
			continue
		}
		out.Messages = append(out.Messages, m)
		out.Indexes = append(out.Indexes, i)
	}
	return out, nil
}

// DecodeSingle reads the body of a single call; typ is the call's type from the path, or
// "" when the body says it (/v1/webhook).
func DecodeSingle(body []byte, typ string, received time.Time) (*Decoded, error) {
	if err := checkObject(body); err != nil {
		return nil, err
	}
	m, rej := decodeOne(body, typ, nil, nil, received)
	if rej != nil {
		return nil, &RequestError{Code: rej.Code, Message: rej.Message}
	}
	var wk struct {
		WriteKey any `json:"writeKey"`
	}
	_ = json.Unmarshal(body, &wk)
	return &Decoded{Messages: []Message{m}, Indexes: []int{0}, WriteKey: stringOf(wk.WriteKey)}, nil
}

// rejectedMessageID is the messageId of a message that failed validation, when it has a
// valid one, so that the rejection names it (PRODUCT.md 2).
func rejectedMessageID(raw []byte) string {
	var m struct {
		MessageID any `json:"messageId"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return ""
	}
	id, err := idField("messageId", m.MessageID, MaxMessageIDLen)
	if err != nil {
		return ""
	}
	return id
}

func checkObject(body []byte) error {
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '{' {
		return invalid("the body must be a JSON object")
	}
	return nil
}

func decodeJSON(body []byte, into any) error {
	if err := checkObject(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return invalid("body is not valid JSON of the expected shape: %v", shortJSONError(err))
	}
	if dec.More() {
		return invalid("trailing data after the JSON body")
	}
	return nil
}

func shortJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type (%s)", te.Field, te.Value)
	}
	return err.Error()
}

func decodeOne(raw []byte, typ string, envContext map[string]any, envSentAt any, received time.Time) (Message, *Rejection) {
	reject := func(code, format string, args ...any) (Message, *Rejection) {
		return Message{}, &Rejection{Code: code, Message: fmt.Sprintf(format, args...)}
	}
	if len(raw) > MaxMessageBytes {
		return reject(CodeTooLarge, "a message is at most %d bytes", MaxMessageBytes)
	}
	var r rawMessage
	if err := decodeJSON(raw, &r); err != nil {
		var re *RequestError
		errors.As(err, &re)
		return reject(CodeInvalid, "%s", re.Message)
	}
	var m Message
	var err error
	fail := func(e error) (Message, *Rejection) { return reject(CodeInvalid, "%s", e.Error()) }

	if t, ok := r.Type.(string); ok && (typ == "" || typ == "batch") {
		typ = strings.ToLower(t)
	} else if r.Type != nil && typ != "" {
		if t, _ := r.Type.(string); !strings.EqualFold(t, typ) {
			return reject(CodeInvalid, "type %q does not match the endpoint /v1/%s", t, typ)
		}
	}
	switch typ {
	case TypeIdentify, TypeTrack, TypePage, TypeScreen, TypeGroup, TypeAlias:
		m.Type = typ
	default:
		return reject(CodeInvalid, "unknown or missing type %v", r.Type)
	}
	if m.MessageID, err = idField("messageId", r.MessageID, MaxMessageIDLen); err != nil {
		return fail(err)
	}
	if m.UserID, err = idField("userId", r.UserID, maxIDLen); err != nil {
		return fail(err)
	}
	if m.AnonymousID, err = idField("anonymousId", r.AnonymousID, maxIDLen); err != nil {
		return fail(err)
	}
	if m.PreviousID, err = idField("previousId", r.PreviousID, maxIDLen); err != nil {
		return fail(err)
	}
	if m.GroupID, err = idField("groupId", r.GroupID, maxIDLen); err != nil {
		return fail(err)
	}
	if m.Event, err = textField("event", r.Event); err != nil {
		return fail(err)
	}
	if m.Name, err = textField("name", r.Name); err != nil {
		return fail(err)
	}
	if m.Category, err = textField("category", r.Category); err != nil {
		return fail(err)
	}
	if m.Traits, err = objectField("traits", r.Traits); err != nil {
		return fail(err)
	}
	if m.Properties, err = objectField("properties", r.Properties); err != nil {
		return fail(err)
	}
	ctx, err := objectField("context", r.Context)
	if err != nil {
		return fail(err)
	}
	m.Context = mergeContext(envContext, ctx)

	switch {
	case m.Type == TypeAlias && (m.PreviousID == "" || m.UserID == ""):
		return reject(CodeInvalid, "alias needs previousId and userId")
	case m.Type != TypeAlias && m.UserID == "" && m.AnonymousID == "":
		return reject(CodeInvalid, "userId or anonymousId is required")
	case m.Type == TypeTrack && m.Event == "":
		return reject(CodeInvalid, "track needs event")
	case m.Type == TypeGroup && m.GroupID == "":
		return reject(CodeInvalid, "group needs groupId")
	case len(m.Event) > maxIDLen:
		return reject(CodeInvalid, "event is longer than %d bytes", maxIDLen)
	}

	timestamp, err := timeField("timestamp", r.Timestamp)
	if err != nil {
		return fail(err)
	}
	original, err := timeField("originalTimestamp", r.OriginalTimestamp)
	if err != nil {
		return fail(err)
	}
	sentAtRaw := r.SentAt
	if sentAtRaw == nil {
		sentAtRaw = envSentAt
	}
	sentAt, err := timeField("sentAt", sentAtRaw)
	if err != nil {
		return fail(err)
	}
	m.Time = eventTime(timestamp, original, sentAt, received)
	if m.MessageID == "" {
		m.MessageID = generatedID()
	}
	return m, nil
}

// eventTime is Segment's rule: timestamp; else receivedAt − (sentAt − originalTimestamp),
// which corrects the sender's clock skew; else the time of receipt.
func eventTime(timestamp, original, sentAt *time.Time, received time.Time) time.Time {
	switch {
	case timestamp != nil:
		return timestamp.UTC()
	case original != nil && sentAt != nil:
		return received.Add(-sentAt.Sub(*original)).UTC()
	default:
		return received.UTC()
	}
}

func idField(name string, v any, max int) (string, error) {
	var s string
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		s = strings.TrimSpace(x)
	case json.Number:
		// Numbers are taken as their decimal text, as Segment does.
		s = x.String()
	default:
		return "", fmt.Errorf("%s must be a string or a number", name)
	}
	if len(s) > max {
		return "", fmt.Errorf("%s is longer than %d bytes", name, max)
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return "", fmt.Errorf("%s is not valid UTF-8 text", name)
	}
	return s, nil
}

func textField(name string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		if !utf8.ValidString(x) || strings.ContainsRune(x, 0) {
			return "", fmt.Errorf("%s is not valid UTF-8 text", name)
		}
		return strings.TrimSpace(x), nil
	default:
		return "", fmt.Errorf("%s must be a string", name)
	}
}

func objectField(name string, v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	default:
		return nil, fmt.Errorf("%s must be an object", name)
	}
}

func timeField(name string, v any) (*time.Time, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return nil, nil
		}
		t, ok := attribute.ParseTime(x)
		if !ok {
			return nil, fmt.Errorf("%s %q is not an ISO-8601 time", name, x)
		}
		// Years 1–9999 in UTC, to the microsecond: what both databases store and read
		// back (SQLite's text form of year 0 or 10000 cannot be read into a time, and
		// PostgreSQL refuses year 0, which would be answered 503 and retried forever).
		t = t.UTC().Truncate(time.Microsecond)
		if y := t.Year(); y < 1 || y > 9999 {
			return nil, fmt.Errorf("%s %q is outside the years 1 to 9999 (UTC)", name, x)
		}
		return &t, nil
	default:
		return nil, fmt.Errorf("%s must be an ISO-8601 string", name)
	}
}

// mergeContext lays a message's own context over the batch's.
func mergeContext(base, own map[string]any) map[string]any {
	if len(base) == 0 {
		return own
	}
	out := maps.Clone(base)
	maps.Copy(out, own)
	return out
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// generatedID names a message that came without a messageId. Such a message cannot be
// deduplicated: a retry of it is a new message.
func generatedID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "pg-" + hex.EncodeToString(b[:])
}
