package segmentation

import (
	"context"
	"fmt"

	"github.com/peoplegraph/peoplegraph/attribute"
	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/attributedefinition"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// Definitions are the attribute and event definitions of one app: what a filter's keys
// and event names mean and how their values compare. The maps are read only; build one
// with LoadDefinitions, or by hand in tests.
type Definitions struct {
	// AppID is the app the definitions belong to (0 when unknown). The counting
	// subqueries of event and page view conditions use it as a constant, so that
	// PostgreSQL and SQLite can use the (app_id, …) indexes without first correlating with
	// each user; they are tied to the outer users.app_id as well, so it is never needed for
	// correctness.
	AppID int
	// User and Company are the custom attribute definitions by key.
	User    map[string]attribute.Definition
	Company map[string]attribute.Definition
	// Events are the event definitions by name.
	Events map[string]EventDefinition
}

// EventDefinition is one event name, its id (occurrences refer to it) and the definitions
// of its properties by key.
type EventDefinition struct {
	ID         int
	Properties map[string]attribute.Definition
}

// UserAttribute returns the definition of a user attribute.
func (d Definitions) UserAttribute(key string) (attribute.Definition, bool) {
	def, ok := d.User[key]
	return def, ok
}

// CompanyAttribute returns the definition of a company attribute.
func (d Definitions) CompanyAttribute(key string) (attribute.Definition, bool) {
	def, ok := d.Company[key]
	return def, ok
}

// Event returns the definition of an event by name.
func (d Definitions) Event(name string) (EventDefinition, bool) {
	e, ok := d.Events[name]
	return e, ok
}

func appOf(ctx context.Context) int {
	if v, ok := viewer.FromContext(ctx); ok {
		return v.AppID
	}
	return 0
}

// LoadDefinitions reads the definitions of the viewer's app (ctx must carry a viewer; the
// privacy policies scope the two queries to its app).
func LoadDefinitions(ctx context.Context, client *ent.Client) (Definitions, error) {
	events, err := client.EventDefinition.Query().All(ctx)
	if err != nil {
		return Definitions{}, fmt.Errorf("load event definitions: %w", err)
	}
	attrs, err := client.AttributeDefinition.Query().All(ctx)
	if err != nil {
		return Definitions{}, fmt.Errorf("load attribute definitions: %w", err)
	}
	defs := Definitions{
		AppID:   appOf(ctx),
		User:    map[string]attribute.Definition{},
		Company: map[string]attribute.Definition{},
		Events:  map[string]EventDefinition{},
	}
	byID := map[int]string{}
	for _, e := range events {
		defs.Events[e.Name] = EventDefinition{ID: e.ID, Properties: map[string]attribute.Definition{}}
		byID[e.ID] = e.Name
	}
	for _, a := range attrs {
		def := attribute.Definition{
			Type:          attribute.Type(a.Type),
			Choices:       a.Choices,
			AllowMultiple: a.AllowMultiple,
		}
		switch a.Scope {
		case attributedefinition.ScopeUSER:
			defs.User[a.Key] = def
		case attributedefinition.ScopeCOMPANY:
			defs.Company[a.Key] = def
		case attributedefinition.ScopeEVENT:
			if a.EventDefinitionID == nil {
				continue
			}
			if name, ok := byID[*a.EventDefinitionID]; ok {
				defs.Events[name].Properties[a.Key] = def
			}
		}
	}
	return defs, nil
}
