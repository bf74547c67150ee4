// Package segmentation evaluates segment filters — trees of and / or / not over
// conditions on a user's standard fields, custom attributes, events, page views and
// companies — as SQL in the database, on SQLite and PostgreSQL alike.
//
//   - Filter and the condition types are the Go form of the GraphQL input SegmentFilter
//     (its SDL is graph/segments.graphql) and of the JSON saved segments keep (Decode, FromMap, Map).
//   - Validate checks a filter against the app's Definitions (LoadDefinitions) and
//     reports every problem as an *Error with the path of the offending input field.
//   - Predicate turns a filter into one predicate on the users table, for
//     client.User.Query().Where(predicate.User(p)): a single SQL statement with bound
//     parameters only.
//   - Defaults are the segments a new app starts with.
//
// The rules (operators per type, missing values, case, windows) are in docs/segments.md;
// the tests check them on both databases, against a hand-made table and against a plain
// Go evaluator on random data.
package segmentation
