package graph

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/attribute"
	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/ent/eventdefinition"
	"github.com/peoplegraph/peoplegraph/ent/eventoccurrence"
	"github.com/peoplegraph/peoplegraph/storage"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// maxChoices bounds the choices of a FIXED definition.
const maxChoices = 1000

// convertPage is how many rows a type change reads, converts and writes at a time.
const convertPage = 500

// typing validates the typing part of a definition: FIXED needs choices (distinct,
// non-empty); other types take none. prefix names the input ("input").
func typing(prefix string, t attributedefinition.Type, choices []string, allowMultiple bool) (attribute.Definition, error) {
	def := attribute.Definition{Type: attribute.Type(t), AllowMultiple: allowMultiple}
	if !def.Type.Valid() {
		return def, BadInput(prefix+".type", "unknown type")
	}
	if def.Type != attribute.Fixed {
		if len(choices) > 0 {
			return def, BadInput(prefix+".choices", "only a FIXED attribute has choices")
		}
		if allowMultiple {
			return def, BadInput(prefix+".allowMultiple", "only a FIXED attribute may allow several choices")
		}
		return def, nil
	}
	if len(choices) == 0 {
		return def, BadInput(prefix+".choices", "a FIXED attribute needs at least one choice")
	}
	if len(choices) > maxChoices {
		return def, BadInput(prefix+".choices", fmt.Sprintf("at most %d choices", maxChoices))
	}
	seen := make(map[string]bool, len(choices))
	for _, c := range choices {
		switch {
		case strings.TrimSpace(c) == "":
			return def, BadInput(prefix+".choices", "a choice must not be empty")
		case len(c) > attribute.MaxTextLength:
			return def, BadInput(prefix+".choices", "a choice is too long")
		case seen[c]:
			return def, BadInput(prefix+".choices", "choice "+strconv.Quote(c)+" is listed twice")
		}
		seen[c] = true
	}
	def.Choices = slices.Clone(choices)
	return def, nil
}

// lockDefinitions serializes the transaction with ingestion's typing of values: the
// app's definitions lock taken exclusively (ingestion holds it shared), then, on
// PostgreSQL, the definition's row FOR UPDATE, which also serializes admins changing
// the same definition. It returns the locked definition (NOT_FOUND in another app).
func (r *Resolver) lockDefinition(ctx context.Context, tx *ent.Tx, id int) (*ent.AttributeDefinition, error) {
	dia := r.dialectOf(ctx)
	v, _ := viewer.FromContext(ctx)
	if err := storage.LockDefinitions(ctx, tx, dia, v.AppID, false); err != nil {
		return nil, err
	}
	q := tx.AttributeDefinition.Query().Where(attributedefinition.ID(id))
	if dia == dialect.Postgres {
		q.ForUpdate()
	}
	return q.Only(ctx)
}

// valueStore is where the values of a definition live: a JSON column of users,
// companies, or the occurrences of one event.
type valueStore struct {
	table, column string
	event         *int
}

func storeOf(d *ent.AttributeDefinition) valueStore {
	switch d.Scope {
	case attributedefinition.ScopeCOMPANY:
		return valueStore{table: "companies", column: "attributes"}
	case attributedefinition.ScopeEVENT:
		return valueStore{table: "event_occurrences", column: "properties", event: d.EventDefinitionID}
	default:
		return valueStore{table: "users", column: "attributes"}
	}
}

// rewriteValues passes every stored value of key to fn, in pages of convertPage rows,
// and writes back what changed: fn returns the new value, or false to remove it. It
// reads the documents as text with json.Number, so numbers keep every digit. The
// statements are written by hand (they bypass Ent's privacy), so each names the app.
// On PostgreSQL the rows of a page are locked as they are read, so ingestion's writes
// to other keys of the same rows wait instead of being overwritten.
func (r *Resolver) rewriteValues(ctx context.Context, tx *ent.Tx, s valueStore, key string, fn func(any) (any, bool)) (kept, removed int, err error) {
	if s.table == "event_occurrences" && s.event == nil {
		return 0, 0, nil
	}
	postgres := r.dialectOf(ctx) == dialect.Postgres
	v, _ := viewer.FromContext(ctx)
	after := 0
	for {
		args := []any{v.AppID, after}
		q := `SELECT id, ` + s.column + ` FROM ` + s.table + ` WHERE app_id = ? AND id > ?`
		if s.event != nil {
			q += ` AND event_definition_id = ?`
			args = append(args, *s.event)
		}
		if postgres {
			q += ` AND (` + s.column + ` -> CAST(? AS text)) IS NOT NULL`
		} else {
			q += ` AND EXISTS (SELECT 1 FROM json_each(` + s.table + `.` + s.column + `) AS j WHERE j.key = ?)`
		}
		args = append(args, key)
		q += ` ORDER BY id LIMIT ` + strconv.Itoa(convertPage)
		if postgres {
			q += ` FOR UPDATE`
		}
		type row struct {
			id  int
			doc string
		}
		var rows []row
		if err := queryRows(ctx, tx, postgres, q, args, func(rs *sql.Rows) error {
			var rw row
			var doc []byte
			if err := rs.Scan(&rw.id, &doc); err != nil {
				return err
			}
			rw.doc = string(doc)
			rows = append(rows, rw)
			return nil
		}); err != nil {
			return kept, removed, fmt.Errorf("read %s: %w", s.table, err)
		}
		if len(rows) == 0 {
			return kept, removed, nil
		}
		var writes []any
		for _, rw := range rows {
			after = rw.id
			m, err := decodeDocument(rw.doc)
			if err != nil {
				return kept, removed, fmt.Errorf("%s %d: %w", s.table, rw.id, err)
			}
			old, ok := m[key]
			if !ok {
				continue
			}
			nv, keep := fn(old)
			if !keep {
				delete(m, key)
				removed++
			} else {
				kept++
				if sameJSON(old, nv) {
					continue
				}
				m[key] = nv
			}
			doc, err := encodeDocument(m)
			if err != nil {
				return kept, removed, err
			}
			writes = append(writes, rw.id, doc)
		}
		if len(writes) > 0 {
			if err := writeDocuments(ctx, tx, postgres, s, v.AppID, writes); err != nil {
				return kept, removed, fmt.Errorf("write %s: %w", s.table, err)
			}
		}
		if len(rows) < convertPage {
			return kept, removed, nil
		}
	}
}

// writeDocuments sets the JSON column of many rows in one statement; writes holds
// (id, document) pairs.
func writeDocuments(ctx context.Context, tx *ent.Tx, postgres bool, s valueStore, appID int, writes []any) error {
	n := len(writes) / 2
	var q string
	if postgres {
		q = `UPDATE ` + s.table + ` AS t SET ` + s.column + ` = CAST(v.doc AS jsonb) FROM (VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(CAST(? AS bigint), CAST(? AS text)), `, n), ", ") +
			`) AS v(id, doc) WHERE t.app_id = ? AND t.id = v.id`
	} else {
		q = `UPDATE ` + s.table + ` SET ` + s.column + ` = v.column2 FROM (VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?, ?), `, n), ", ") +
			`) AS v WHERE ` + s.table + `.app_id = ? AND ` + s.table + `.id = v.column1`
	}
	_, err := tx.ExecContext(ctx, rebind(postgres, q), append(writes, appID)...)
	return err
}

func queryRows(ctx context.Context, tx *ent.Tx, postgres bool, q string, args []any, each func(*sql.Rows) error) error {
	rs, err := tx.QueryContext(ctx, rebind(postgres, q), args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := each(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}

// rebind turns ? placeholders into PostgreSQL's $n.
func rebind(postgres bool, q string) string {
	if !postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func decodeDocument(doc string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func encodeDocument(m map[string]any) (string, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(m); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// updateDefinition applies an UpdateAttributeDefinitionInput in one transaction,
// converting the stored values when the typing changes.
func (r *Resolver) updateDefinition(ctx context.Context, id int, name *string, t *attributedefinition.Type, choices []string, allowMultiple *bool) (defID, converted, removed int, err error) {
	err = r.inTx(ctx, func(tx *ent.Tx) error {
		d, err := r.lockDefinition(ctx, tx, id)
		if err != nil {
			return err
		}
		newType := d.Type
		if t != nil {
			newType = *t
		}
		newChoices, newMultiple := choices, false
		if newType == attributedefinition.TypeFIXED {
			if newChoices == nil {
				newChoices = d.Choices
			}
			newMultiple = d.AllowMultiple
		}
		if allowMultiple != nil {
			newMultiple = *allowMultiple
		}
		target, err := typing("input", newType, newChoices, newMultiple)
		if err != nil {
			return err
		}
		update := tx.AttributeDefinition.UpdateOne(d).SetCreatedAutomatically(false)
		if name != nil {
			n, err := displayName("input.name", *name)
			if err != nil {
				return err
			}
			update.SetName(n)
		}
		retyped := newType != d.Type || newMultiple != d.AllowMultiple ||
			(newType == attributedefinition.TypeFIXED && !slices.Equal(target.Choices, d.Choices))
		if retyped {
			from := attribute.Type(d.Type)
			converted, removed, err = r.rewriteValues(ctx, tx, storeOf(d), d.Key, func(v any) (any, bool) {
				return attribute.Convert(from, target, v)
			})
			if err != nil {
				return err
			}
			update.SetType(newType).SetAllowMultiple(newMultiple).SetRejectedCount(0).ClearLastRejectedValue()
			if newType == attributedefinition.TypeFIXED {
				update.SetChoices(target.Choices)
			} else {
				update.ClearChoices()
			}
		}
		return update.Exec(ctx)
	})
	return id, converted, removed, err
}

// deleteDefinition deletes a definition and every stored value of its key, in one
// transaction.
func (r *Resolver) deleteDefinition(ctx context.Context, id int) error {
	return r.inTx(ctx, func(tx *ent.Tx) error {
		d, err := r.lockDefinition(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, _, err := r.rewriteValues(ctx, tx, storeOf(d), d.Key, func(any) (any, bool) { return nil, false }); err != nil {
			return err
		}
		return tx.AttributeDefinition.DeleteOne(d).Exec(ctx)
	})
}

// renameEvent renames an event definition and its occurrences.
func (r *Resolver) renameEvent(ctx context.Context, id int, name string) error {
	return r.inTx(ctx, func(tx *ent.Tx) error {
		v, _ := viewer.FromContext(ctx)
		if err := storage.LockDefinitions(ctx, tx, r.dialectOf(ctx), v.AppID, false); err != nil {
			return err
		}
		if err := tx.EventDefinition.UpdateOneID(id).SetName(name).Exec(ctx); err != nil {
			if ent.IsConstraintError(err) {
				return BadInput("name", "an event named "+strconv.Quote(name)+" already exists")
			}
			return err
		}
		_, err := tx.EventOccurrence.Update().
			Where(eventoccurrence.EventDefinitionID(id)).
			SetName(name).
			Save(ctx)
		return err
	})
}

// deleteEvent deletes an event definition with its attribute definitions, and its
// occurrences when allowed to.
func (r *Resolver) deleteEvent(ctx context.Context, id int, withOccurrences bool) error {
	return r.inTx(ctx, func(tx *ent.Tx) error {
		v, _ := viewer.FromContext(ctx)
		if err := storage.LockDefinitions(ctx, tx, r.dialectOf(ctx), v.AppID, false); err != nil {
			return err
		}
		d, err := tx.EventDefinition.Get(ctx, id)
		if err != nil {
			return err
		}
		has, err := d.QueryOccurrenceList().Exist(ctx)
		if err != nil {
			return err
		}
		if has && !withOccurrences {
			return BadInput("deleteOccurrences", "the event has occurrences; pass deleteOccurrences: true to delete them with it")
		}
		if _, err := tx.EventOccurrence.Delete().Where(eventoccurrence.EventDefinitionID(id)).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.AttributeDefinition.Delete().Where(attributedefinition.EventDefinitionID(id)).Exec(ctx); err != nil {
			return err
		}
		return tx.EventDefinition.DeleteOneID(id).Exec(ctx)
	})
}

// eventDefinitionID finds the event definition of name, creating it when unknown (an
// admin may type an event's properties before the event is first sent).
func (r *Resolver) eventDefinitionID(ctx context.Context, name string) (int, error) {
	if strings.TrimSpace(name) == "" {
		return 0, BadInput("input.eventName", "must not be empty")
	}
	q := r.Client.EventDefinition.Query().Where(eventdefinition.Name(name))
	id, err := q.Clone().OnlyID(ctx)
	if err == nil || !ent.IsNotFound(err) {
		return id, err
	}
	d, err := r.Client.EventDefinition.Create().SetName(name).Save(ctx)
	if ent.IsConstraintError(err) {
		// Created concurrently (by ingestion, most likely).
		return q.OnlyID(ctx)
	}
	if err != nil {
		return 0, err
	}
	return d.ID, nil
}
