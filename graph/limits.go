package graph

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// CodeDepthLimitExceeded is the code of a query nested deeper than the depth limit.
// Like gqlgen's COMPLEXITY_LIMIT_EXCEEDED it comes with HTTP 200 and no data: nothing
// of the operation runs.
const CodeDepthLimitExceeded = "DEPTH_LIMIT_EXCEEDED"

// DepthLimit refuses operations whose fields nest deeper than Max, before anything
// runs. gqlgen has no such limit of its own; the complexity limit bounds the breadth
// of a query, this bounds its depth. Introspection fields (__schema, __type) do not
// count: their depth is bounded by the schema, and GraphiQL's introspection query is
// deep.
type DepthLimit struct {
	Max int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName implements graphql.HandlerExtension.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate implements graphql.HandlerExtension.
func (DepthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (l DepthLimit) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	w := depthWalker{doc: opCtx.Doc, fragments: map[string]int{}, visiting: map[string]bool{}}
	if d := w.depth(opCtx.Operation.SelectionSet); d > l.Max {
		err := gqlerror.Errorf("operation has depth %d, which exceeds the limit of %d", d, l.Max)
		errcode.Set(err, CodeDepthLimitExceeded)
		return err
	}
	return nil
}

type depthWalker struct {
	doc       *ast.QueryDocument
	fragments map[string]int
	visiting  map[string]bool
}

func (w depthWalker) depth(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			d = 1 + w.depth(s.SelectionSet)
		case *ast.InlineFragment:
			d = w.depth(s.SelectionSet)
		case *ast.FragmentSpread:
			d = w.fragment(s)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

func (w depthWalker) fragment(s *ast.FragmentSpread) int {
	if d, ok := w.fragments[s.Name]; ok {
		return d
	}
	if w.visiting[s.Name] { // a cycle; validation refuses them before this runs
		return 0
	}
	def := s.Definition
	if w.doc != nil {
		if f := w.doc.Fragments.ForName(s.Name); f != nil {
			def = f
		}
	}
	if def == nil {
		return 0
	}
	w.visiting[s.Name] = true
	d := w.depth(def.SelectionSet)
	delete(w.visiting, s.Name)
	w.fragments[s.Name] = d
	return d
}

// PageSize bounds every connection of an operation before anything runs: first and
// last must be between 0 and Max (not both), else BAD_USER_INPUT naming the argument;
// a connection given neither gets first: Default written into the operation. Writing
// the default into the operation, rather than only into resolvers, matters: Ent's
// eager loading (CollectFields) and the complexity limit read the arguments from the
// operation, so an unbounded nested connection would otherwise load every row.
//
// The parsed operation may be shared through the query cache, so it is never changed
// in place: what needs a default is copied, with its parents.
type PageSize struct {
	Default, Max int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = PageSize{}

// ExtensionName implements graphql.HandlerExtension.
func (PageSize) ExtensionName() string { return "PageSize" }

// Validate implements graphql.HandlerExtension.
func (PageSize) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (p PageSize) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil || opCtx.Doc == nil {
		return nil
	}
	rw := &pageRewriter{
		limits:    p,
		vars:      opCtx.Variables,
		doc:       opCtx.Doc,
		fragments: map[string]*ast.FragmentDefinition{},
		changed:   map[string]bool{},
	}
	set, changed := rw.set(opCtx.Operation.SelectionSet)
	if rw.err != nil {
		return rw.err
	}
	if !changed && len(rw.changedFragments()) == 0 {
		return nil
	}
	op := *opCtx.Operation
	op.SelectionSet = set
	doc := *opCtx.Doc
	doc.Operations = make(ast.OperationList, len(opCtx.Doc.Operations))
	for i, o := range opCtx.Doc.Operations {
		if o == opCtx.Operation {
			o = &op
		}
		doc.Operations[i] = o
	}
	doc.Fragments = make(ast.FragmentDefinitionList, len(opCtx.Doc.Fragments))
	for i, f := range opCtx.Doc.Fragments {
		if nf, ok := rw.fragments[f.Name]; ok && rw.changed[f.Name] {
			f = nf
		}
		doc.Fragments[i] = f
	}
	opCtx.Doc = &doc
	opCtx.Operation = &op
	return nil
}

type pageRewriter struct {
	limits    PageSize
	vars      map[string]any
	doc       *ast.QueryDocument
	fragments map[string]*ast.FragmentDefinition // processed fragments (copies when changed)
	changed   map[string]bool
	visiting  map[string]bool
	err       *gqlerror.Error
}

func (rw *pageRewriter) changedFragments() []string {
	var names []string
	for n, c := range rw.changed {
		if c {
			names = append(names, n)
		}
	}
	return names
}

// set rewrites a selection set, returning a copy when something in it changed.
func (rw *pageRewriter) set(set ast.SelectionSet) (ast.SelectionSet, bool) {
	var out ast.SelectionSet
	for i, sel := range set {
		if rw.err != nil {
			return set, false
		}
		next, changed := sel, false
		switch s := sel.(type) {
		case *ast.Field:
			next, changed = rw.field(s)
		case *ast.InlineFragment:
			if children, ok := rw.set(s.SelectionSet); ok {
				c := *s
				c.SelectionSet = children
				next, changed = &c, true
			}
		case *ast.FragmentSpread:
			if def, ok := rw.fragment(s); ok {
				c := *s
				c.Definition = def
				next, changed = &c, true
			}
		}
		if changed && out == nil {
			out = make(ast.SelectionSet, len(set))
			copy(out, set)
		}
		if out != nil {
			out[i] = next
		}
	}
	if out == nil {
		return set, false
	}
	return out, true
}

func (rw *pageRewriter) fragment(s *ast.FragmentSpread) (*ast.FragmentDefinition, bool) {
	if def, ok := rw.fragments[s.Name]; ok {
		return def, rw.changed[s.Name]
	}
	def := rw.doc.Fragments.ForName(s.Name)
	if def == nil {
		def = s.Definition
	}
	if def == nil {
		return s.Definition, false
	}
	if rw.visiting == nil {
		rw.visiting = map[string]bool{}
	}
	if rw.visiting[s.Name] { // a cycle; validation refuses them before this runs
		return def, false
	}
	rw.visiting[s.Name] = true
	children, changed := rw.set(def.SelectionSet)
	delete(rw.visiting, s.Name)
	if changed {
		c := *def
		c.SelectionSet = children
		def = &c
	}
	rw.fragments[s.Name] = def
	rw.changed[s.Name] = changed
	return def, changed
}

// field checks a connection's first and last, adds first when both are missing, and
// rewrites the field's selections.
func (rw *pageRewriter) field(f *ast.Field) (ast.Selection, bool) {
	children, changed := rw.set(f.SelectionSet)
	args := f.Arguments
	if def := f.Definition; def != nil && isConnection(def) {
		first, hasFirst := rw.intArg(f, "first")
		last, hasLast := rw.intArg(f, "last")
		if rw.err != nil {
			return f, false
		}
		switch {
		case hasFirst && hasLast:
			rw.fail(f, "last", "pass first or last, not both")
		case hasFirst && (first < 0 || first > int64(rw.limits.Max)):
			rw.fail(f, "first", fmt.Sprintf("must be between 0 and %d", rw.limits.Max))
		case hasLast && (last < 0 || last > int64(rw.limits.Max)):
			rw.fail(f, "last", fmt.Sprintf("must be between 0 and %d", rw.limits.Max))
		case !hasFirst && !hasLast:
			args = make(ast.ArgumentList, 0, len(f.Arguments)+1)
			for _, a := range f.Arguments {
				if a.Name != "first" && a.Name != "last" { // present but null
					args = append(args, a)
				}
			}
			args = append(args, &ast.Argument{
				Name:     "first",
				Position: f.Position,
				Value: &ast.Value{
					Kind:         ast.IntValue,
					Raw:          strconv.Itoa(rw.limits.Default),
					Position:     f.Position,
					ExpectedType: def.Arguments.ForName("first").Type,
				},
			})
			changed = true
		}
		if rw.err != nil {
			return f, false
		}
	}
	if !changed {
		return f, false
	}
	c := *f
	c.Arguments = args
	c.SelectionSet = children
	return &c, true
}

// intArg returns the value of an Int argument, and whether it is given (not null).
func (rw *pageRewriter) intArg(f *ast.Field, name string) (int64, bool) {
	a := f.Arguments.ForName(name)
	if a == nil || a.Value == nil {
		return 0, false
	}
	v, err := a.Value.Value(rw.vars)
	if err != nil {
		rw.fail(f, name, err.Error())
		return 0, false
	}
	switch n := v.(type) {
	case nil:
		return 0, false
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	default:
		i, err := graphql.UnmarshalInt64(v)
		if err != nil {
			rw.fail(f, name, "must be an integer")
			return 0, false
		}
		return i, true
	}
}

func (rw *pageRewriter) fail(f *ast.Field, arg, message string) {
	if rw.err != nil {
		return
	}
	err := gqlerror.ErrorPosf(f.Position, "%s.%s: %s", f.Alias, arg, message)
	err.Extensions = map[string]any{"code": CodeBadUserInput, "field": arg}
	rw.err = err
}

// isConnection reports whether a field returns a Relay connection with a page size.
func isConnection(def *ast.FieldDefinition) bool {
	return def.Type != nil && strings.HasSuffix(def.Type.Name(), "Connection") && def.Arguments.ForName("first") != nil
}
