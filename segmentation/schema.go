package segmentation

import _ "embed"

// Schema is the GraphQL SDL of the filter input (SegmentFilter and the types it uses),
// whose Go forms are the types of this package. The server adds it to its schema and maps
// each type in gqlgen.yml (see docs/segments.md).
//
//go:embed schema.graphql.txt
var Schema string
