package graph

import (
	"reflect"
	"strings"
	"testing"

	"github.com/peoplegraph/peoplegraph/graph/generated"
)

// TestEveryConnectionHasAComplexity fails when a connection field (or nodes) is added to
// the schema without a weight in complexity.go: gqlgen would count it as 1 + its
// selection, whatever its page size.
func TestEveryConnectionHasAComplexity(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}).Schema()
	weights := reflect.ValueOf(complexity())
	checked := 0
	for _, def := range schema.Types {
		if strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if !isConnection(f) && !(def.Name == "Query" && f.Name == "nodes") {
				continue
			}
			checked++
			typ := weights.FieldByName(def.Name)
			if !typ.IsValid() {
				t.Errorf("%s.%s: no complexity for type %s", def.Name, f.Name, def.Name)
				continue
			}
			fn := typ.FieldByNameFunc(func(n string) bool { return strings.EqualFold(n, f.Name) })
			if !fn.IsValid() || fn.IsNil() {
				t.Errorf("%s.%s returns %s but has no weight in complexity.go", def.Name, f.Name, f.Type.Name())
			}
		}
	}
	if checked < 7 {
		t.Errorf("only %d connection fields found", checked)
	}
}

func TestConnectionWeight(t *testing.T) {
	n := func(i int) *int { return &i }
	for _, c := range []struct {
		child       int
		first, last *int
		want        int
	}{
		{3, nil, nil, 1 + DefaultPageSize*3},
		{3, n(10), nil, 31},
		{3, nil, n(7), 22},
		{3, n(0), nil, 4}, // a page of 0 still costs its selection once
		{1 << 62, n(500), nil, int(^uint(0) >> 1)},
	} {
		if got := connectionWeight(c.child, c.first, c.last); got != c.want {
			t.Errorf("connectionWeight(%d, %v, %v) = %d, want %d", c.child, c.first, c.last, got, c.want)
		}
	}
}
