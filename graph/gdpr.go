package graph

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/company"
	"github.com/peoplegraph/peoplegraph/ent/eventoccurrence"
	"github.com/peoplegraph/peoplegraph/ent/identity"
	"github.com/peoplegraph/peoplegraph/ent/membership"
	"github.com/peoplegraph/peoplegraph/ent/pageview"
	"github.com/peoplegraph/peoplegraph/ent/user"
)

// inTx runs fn in a transaction of the resolver's client, committing when fn succeeds.
// fn must not use r.Client: on SQLite the transaction holds the only connection.
func (r *Resolver) inTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	r.dialectOf(ctx) // known before the transaction takes the connection
	tx, err := r.Client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("%w (rollback: %v)", err, rerr)
		}
		return err
	}
	return tx.Commit()
}

// deleteUser erases a user and everything that belongs to it in one transaction. On
// PostgreSQL the user's row is locked first, so ingestion writing for the user waits
// (its foreign keys lock the row too) and cannot leave rows behind.
func (r *Resolver) deleteUser(ctx context.Context, id int) error {
	postgres := r.dialectOf(ctx) == dialect.Postgres
	return r.inTx(ctx, func(tx *ent.Tx) error {
		q := tx.User.Query().Where(user.ID(id))
		if postgres {
			q.ForUpdate()
		}
		if _, err := q.OnlyID(ctx); err != nil {
			return err
		}
		if _, err := tx.EventOccurrence.Delete().Where(eventoccurrence.UserID(id)).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.PageView.Delete().Where(pageview.UserID(id)).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.Membership.Delete().Where(membership.UserID(id)).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.Identity.Delete().Where(identity.UserID(id)).Exec(ctx); err != nil {
			return err
		}
		return tx.User.DeleteOneID(id).Exec(ctx)
	})
}

// exportUser is everything stored about a user, as one JSON document.
func (r *Resolver) exportUser(ctx context.Context, id int) (map[string]any, error) {
	u, err := r.Client.User.Query().
		Where(user.ID(id)).
		WithIdentities(func(q *ent.IdentityQuery) { q.Order(identity.ByCreatedAt(), identity.ByID()) }).
		WithCompanies(func(q *ent.CompanyQuery) { q.Order(company.ByID()) }).
		WithPageViewHistory(func(q *ent.PageViewQuery) { q.Order(pageview.ByTimestamp(), pageview.ByID()) }).
		WithEvents(func(q *ent.EventOccurrenceQuery) { q.Order(eventoccurrence.ByTimestamp(), eventoccurrence.ByID()) }).
		Only(ctx)
	if err != nil {
		return nil, err
	}
	profile, err := exportOf(u)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"exportedAt": time.Now().UTC().Format(time.RFC3339Nano),
		"profile":    profile,
	}
	sections := []struct {
		name  string
		items []any
		drop  []string
	}{
		{"identities", anySlice(u.Edges.Identities), []string{"user_id", "id"}},
		{"companies", anySlice(u.Edges.Companies), nil},
		{"pageViews", anySlice(u.Edges.PageViewHistory), []string{"user_id"}},
		{"events", anySlice(u.Edges.Events), []string{"user_id", "event_definition_id"}},
	}
	for _, s := range sections {
		list := make([]any, 0, len(s.items))
		for _, item := range s.items {
			m, err := exportOf(item, s.drop...)
			if err != nil {
				return nil, err
			}
			list = append(list, m)
		}
		out[s.name] = list
	}
	return out, nil
}

func anySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
