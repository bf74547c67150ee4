package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	"github.com/peoplegraph/peoplegraph/ent/privacy"
	"github.com/peoplegraph/peoplegraph/viewer"
)

// appFilter is implemented by the generated filters of every schema with an app_id.
type appFilter interface {
	WhereAppID(entql.IntP)
}

// filterByViewerApp narrows queries, updates and deletes to the viewer's app, and denies
// everything when there is no viewer. The server's own work passes earlier, through
// viewer.SystemContext.
func filterByViewerApp() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v, ok := viewer.FromContext(ctx)
		if !ok {
			return privacy.Denyf("no viewer in context")
		}
		af, ok := f.(appFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		af.WhereAppID(entql.IntEQ(v.AppID))
		return privacy.Skip
	})
}

// createInViewerApp covers what a filter cannot: a created row has no predicate to
// narrow, so its app id is set from the viewer, and a different one is refused. The
// rule sets the field itself because policies run before any other hook.
func createInViewerApp() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		v, ok := viewer.FromContext(ctx)
		if !ok {
			return privacy.Denyf("no viewer in context")
		}
		if got, set := m.Field("app_id"); set {
			if got != v.AppID {
				return privacy.Denyf("create in app %v by a viewer of app %d", got, v.AppID)
			}
			return privacy.Skip
		}
		if err := m.SetField("app_id", v.AppID); err != nil {
			return privacy.Denyf("set app id: %v", err)
		}
		return privacy.Skip
	})
}
