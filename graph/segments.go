package graph

import (
	"context"
	"time"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/predicate"
	"github.com/peoplegraph/peoplegraph/segmentation"
)

// segmentQuery is the users of filter, evaluated in the database. Invalid filters are
// BAD_USER_INPUT naming the offending node under the argument arg.
func (r *Resolver) segmentQuery(ctx context.Context, filter *segmentation.Filter, arg string) (*ent.UserQuery, error) {
	q := r.Client.User.Query()
	if filter == nil {
		return q, nil
	}
	pred, err := r.segmentPredicate(ctx, filter, arg)
	if err != nil {
		return nil, err
	}
	return q.Where(predicate.User(pred)), nil
}

func (r *Resolver) segmentPredicate(ctx context.Context, filter *segmentation.Filter, arg string) (predicate.User, error) {
	defs, err := segmentation.LoadDefinitions(ctx, r.Client)
	if err != nil {
		return nil, err
	}
	pred, err := segmentation.Predicate(filter, defs, r.dialectOf(ctx), time.Now())
	if err != nil {
		if errs := segmentation.Errors(err); len(errs) > 0 {
			return nil, BadInput(arg+pathSuffix(errs[0].Path), errs[0].Message)
		}
		return nil, err
	}
	return predicate.User(pred), nil
}

// pathSuffix turns the package's "filter.and[1]…" path into one under the argument.
func pathSuffix(path string) string {
	const root = "filter"
	if len(path) >= len(root) && path[:len(root)] == root {
		return path[len(root):]
	}
	return "." + path
}

// savedFilter is a segment's stored filter tree.
func savedFilter(s *ent.Segment) (*segmentation.Filter, error) {
	return segmentation.FromMap(s.FilterTree)
}

// savedSegmentQuery is the users of a saved segment now.
func (r *Resolver) savedSegmentQuery(ctx context.Context, s *ent.Segment) (*ent.UserQuery, error) {
	f, err := savedFilter(s)
	if err != nil {
		return nil, err
	}
	return r.segmentQuery(ctx, f, "filter")
}
