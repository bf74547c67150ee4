package graph

import (
	"math"

	"entgo.io/contrib/entgql"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/graph/generated"
	"github.com/peoplegraph/peoplegraph/graph/model"
	"github.com/peoplegraph/peoplegraph/segmentation"
)

// complexity weighs fields for the complexity limit (ComplexityLimit in handler.go).
// gqlgen counts every field as 1 plus what it selects; a connection counts its page
// size (first or last, DefaultPageSize when neither) times what each node selects, so
// users(first: 500) { edges { node { companies(first: 50) { … } } } } weighs 500 × 50
// × the company's fields. TestEveryConnectionHasAComplexity fails when a connection
// field is added without a weight here.
func complexity() generated.ComplexityRoot {
	var c generated.ComplexityRoot
	c.Query.Users = func(child int, first *int, _ *entgql.Cursor[int], last *int, _ *entgql.Cursor[int], _ *ent.UserOrder, _ *segmentation.Filter) int {
		return connectionWeight(child, first, last)
	}
	c.Query.Companies = func(child int, first *int, _ *entgql.Cursor[int], last *int, _ *entgql.Cursor[int], _ *ent.CompanyOrder, _ *model.CompanyFilter) int {
		return connectionWeight(child, first, last)
	}
	c.Segment.Users = func(child int, first *int, _ *entgql.Cursor[int], last *int, _ *entgql.Cursor[int], _ *ent.UserOrder) int {
		return connectionWeight(child, first, last)
	}
	c.Query.Nodes = func(child int, ids []int) int {
		return weigh(len(ids), child)
	}
	c.User.Companies = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.CompanyOrder) int {
		return connectionWeight(child, first, last)
	}
	c.User.PageViewHistory = func(child int, first *int, _ *entgql.Cursor[int]) int {
		return connectionWeight(child, first, nil)
	}
	c.User.Events = func(child int, first *int, _ *entgql.Cursor[int], _ *string) int {
		return connectionWeight(child, first, nil)
	}
	c.Company.Users = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.UserOrder) int {
		return connectionWeight(child, first, last)
	}
	return c
}

// connectionWeight is the page size times the weight of one node (the selection of a
// connection is edges, pageInfo and totalCount; counting it all per node is a slight
// overestimate that keeps the formula simple).
func connectionWeight(child int, first, last *int) int {
	n := DefaultPageSize
	switch {
	case first != nil:
		n = *first
	case last != nil:
		n = *last
	}
	return weigh(n, child)
}

// weigh is 1 + n × child for n items of weight child (at least one item), saturating
// instead of overflowing.
func weigh(n, child int) int {
	n = max(n, 1)
	if child > (math.MaxInt-1)/n {
		return math.MaxInt
	}
	return 1 + n*child
}
