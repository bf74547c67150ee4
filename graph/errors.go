package graph

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/peoplegraph/peoplegraph/ent"
	"github.com/peoplegraph/peoplegraph/ent/privacy"
)

// The error codes clients rely on, in extensions.code.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeInternal        = "INTERNAL"
)

// InputError is a problem with one argument or input field; Field names it with a
// dotted path ("input.choices").
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// BadInput returns an InputError.
func BadInput(field, message string) error { return &InputError{Field: field, Message: message} }

// ErrNotFound is returned when an object does not exist in the viewer's app.
var ErrNotFound = errors.New("not found")

// ErrorPresenter is the one place where errors become GraphQL errors. Errors gqlgen
// produced itself (parse, validation, complexity) keep their own code; everything a
// resolver returns is classified, and what cannot be classified is logged and shown
// only as an internal error, so no detail of the database leaks to clients.
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var already *gqlerror.Error
		if errors.As(err, &already) && already.Extensions["code"] != nil {
			return gqlErr
		}
		if field, ok := argumentError(ctx, gqlErr); ok {
			// gqlgen could not read an argument (a malformed cursor, say): the error's
			// path runs on from the field into the argument.
			gqlErr.Path = gqlErr.Path[:len(graphql.GetPath(ctx))]
			gqlErr.Message = field + ": " + gqlErr.Message
			gqlErr.Extensions = map[string]any{"code": CodeBadUserInput, "field": field}
			return gqlErr
		}
		code, message, extra := classify(err)
		if code == CodeInternal {
			logger.ErrorContext(ctx, "graphql resolver failed", "path", gqlErr.Path.String(), "error", err)
		}
		gqlErr.Message = message
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = code
		for k, v := range extra {
			gqlErr.Extensions[k] = v
		}
		return gqlErr
	}
}

// argumentError recognizes an error gqlgen raised while reading a field's arguments:
// it is presented in the context of the field, with a path that goes on from the
// field's into the argument. It returns the argument's dotted name.
func argumentError(ctx context.Context, err *gqlerror.Error) (string, bool) {
	field := graphql.GetPath(ctx)
	if len(err.Path) <= len(field) || err.Path[:len(field)].String() != field.String() {
		return "", false
	}
	var parts []string
	for _, p := range err.Path[len(field):] {
		switch p := p.(type) {
		case ast.PathName:
			parts = append(parts, string(p))
		case ast.PathIndex:
			parts = append(parts, strconv.Itoa(int(p)))
		}
	}
	return strings.Join(parts, "."), len(parts) > 0
}

func classify(err error) (code, message string, extra map[string]any) {
	var input *InputError
	var validation *ent.ValidationError
	switch {
	case errors.As(err, &input):
		return CodeBadUserInput, input.Error(), map[string]any{"field": input.Field}
	case errors.As(err, &validation):
		return CodeBadUserInput, validation.Error(), map[string]any{"field": validation.Name}
	case ent.IsNotFound(err), errors.Is(err, ErrNotFound):
		return CodeNotFound, "not found", nil
	case ent.IsConstraintError(err):
		return CodeBadUserInput, "conflicts with an existing object", nil
	case errors.Is(err, privacy.Deny):
		return CodeForbidden, "forbidden", nil
	default:
		return CodeInternal, "internal error", nil
	}
}
