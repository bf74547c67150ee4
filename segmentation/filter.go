package segmentation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Filter is one node of a filter tree: exactly one of its fields is set. It is the Go
// form of the GraphQL input SegmentFilter (schema.graphql.txt) and of the JSON that
// saved segments keep, so gqlgen can bind the input to it directly.
//
// A nil filter, and an empty root node {}, select every user. And with no children
// selects every user, Or with no children none.
type Filter struct {
	And       []*Filter           `json:"and,omitempty"`
	Or        []*Filter           `json:"or,omitempty"`
	Not       *Filter             `json:"not,omitempty"`
	Field     *FieldCondition     `json:"field,omitempty"`
	Attribute *AttributeCondition `json:"attribute,omitempty"`
	Event     *EventCondition     `json:"event,omitempty"`
	PageView  *PageViewCondition  `json:"pageView,omitempty"`
	Company   *CompanyCondition   `json:"company,omitempty"`
	// NoCompany true: the user belongs to no company; false: to at least one.
	NoCompany *bool `json:"noCompany,omitempty"`
}

// MarshalJSON keeps an empty and / or list ("and": [] selects everyone), which omitempty
// would drop; nil fields are left out.
func (f Filter) MarshalJSON() ([]byte, error) {
	type plain Filter // without this method
	w := struct {
		And *[]*Filter `json:"and,omitempty"`
		Or  *[]*Filter `json:"or,omitempty"`
		plain
	}{plain: plain(f)}
	if f.And != nil {
		w.And = &f.And
	}
	if f.Or != nil {
		w.Or = &f.Or
	}
	w.plain.And, w.plain.Or = nil, nil
	return json.Marshal(w)
}

// FieldCondition compares a standard field or counter of the user.
type FieldCondition struct {
	Field    UserField `json:"field"`
	Operator Operator  `json:"operator"`
	// Value is the operand of the single-value operators.
	Value any `json:"value,omitempty"`
	// Values are the operands of IN and NOT_IN (one or more) and BETWEEN (two: low, high).
	Values []any `json:"values,omitempty"`
	// Days or Hours (exactly one) size the window of WITHIN_LAST_DAYS and MORE_THAN_DAYS_AGO.
	Days  *int `json:"days,omitempty"`
	Hours *int `json:"hours,omitempty"`
}

// AttributeCondition compares a custom attribute, by the type of its definition: a user
// attribute at the top of a filter, an event property inside EventCondition, a company
// attribute inside CompanyCondition.
type AttributeCondition struct {
	Key      string   `json:"key"`
	Operator Operator `json:"operator"`
	Value    any      `json:"value,omitempty"`
	Values   []any    `json:"values,omitempty"`
	Days     *int     `json:"days,omitempty"`
	Hours    *int     `json:"hours,omitempty"`
}

// EventCondition: the user did the event Name CountOp Count times (default: at least
// once), counting only occurrences whose properties match every condition in
// Properties, within the window (default: ever). "Never did" is EXACTLY 0 (or AT_MOST 0).
//
// Window: at most one of Days, Hours, or From/To. Days and Hours are the last D×24 or H
// hours up to now, both ends included; From (included) and To (excluded) may be given
// alone or together.
type EventCondition struct {
	Name       string                `json:"name"`
	Properties []*AttributeCondition `json:"properties,omitempty"`
	CountOp    *CountOp              `json:"countOp,omitempty"`
	Count      *int                  `json:"count,omitempty"`
	Days       *int                  `json:"days,omitempty"`
	Hours      *int                  `json:"hours,omitempty"`
	From       *time.Time            `json:"from,omitempty"`
	To         *time.Time            `json:"to,omitempty"`
}

// PageViewCondition: the user viewed a page whose URL matches (Operator: EQUALS,
// CONTAINS, STARTS_WITH or ENDS_WITH) CountOp Count times (default: at least once), within
// the window (as for EventCondition).
type PageViewCondition struct {
	Operator Operator   `json:"operator"`
	URL      string     `json:"url"`
	CountOp  *CountOp   `json:"countOp,omitempty"`
	Count    *int       `json:"count,omitempty"`
	Days     *int       `json:"days,omitempty"`
	Hours    *int       `json:"hours,omitempty"`
	From     *time.Time `json:"from,omitempty"`
	To       *time.Time `json:"to,omitempty"`
}

// CompanyCondition: the user is a member of at least one company for which every field
// and attribute condition holds (no conditions: of any company).
type CompanyCondition struct {
	Fields     []*CompanyFieldCondition `json:"fields,omitempty"`
	Attributes []*AttributeCondition    `json:"attributes,omitempty"`
}

// CompanyFieldCondition compares a standard field of a company.
type CompanyFieldCondition struct {
	Field    CompanyField `json:"field"`
	Operator Operator     `json:"operator"`
	Value    any          `json:"value,omitempty"`
	Values   []any        `json:"values,omitempty"`
	Days     *int         `json:"days,omitempty"`
	Hours    *int         `json:"hours,omitempty"`
}

// Operator compares a value. Which operators a field or attribute accepts depends on its
// type (see docs/segments.md).
type Operator string

// The operators.
const (
	Equals          Operator = "EQUALS"
	NotEquals       Operator = "NOT_EQUALS"
	Contains        Operator = "CONTAINS"
	NotContains     Operator = "NOT_CONTAINS"
	StartsWith      Operator = "STARTS_WITH"
	EndsWith        Operator = "ENDS_WITH"
	GT              Operator = "GT"
	GTE             Operator = "GTE"
	LT              Operator = "LT"
	LTE             Operator = "LTE"
	Between         Operator = "BETWEEN"
	In              Operator = "IN"
	NotIn           Operator = "NOT_IN"
	IsSet           Operator = "IS_SET"
	IsNotSet        Operator = "IS_NOT_SET"
	WithinLastDays  Operator = "WITHIN_LAST_DAYS"
	MoreThanDaysAgo Operator = "MORE_THAN_DAYS_AGO"
)

// Operators lists every operator, in the order of the GraphQL enum.
func Operators() []Operator {
	return []Operator{Equals, NotEquals, Contains, NotContains, StartsWith, EndsWith,
		GT, GTE, LT, LTE, Between, In, NotIn, IsSet, IsNotSet, WithinLastDays, MoreThanDaysAgo}
}

// CountOp compares how many times something happened.
type CountOp string

// The count operators.
const (
	AtLeast CountOp = "AT_LEAST"
	AtMost  CountOp = "AT_MOST"
	Exactly CountOp = "EXACTLY"
)

// CountOps lists every count operator.
func CountOps() []CountOp { return []CountOp{AtLeast, AtMost, Exactly} }

// UserField names a standard field or counter of a user.
type UserField string

// The user fields. Text fields unless noted.
const (
	UserEmail          UserField = "EMAIL"
	UserFirstName      UserField = "FIRST_NAME"
	UserLastName       UserField = "LAST_NAME"
	UserPhone          UserField = "PHONE"
	UserGender         UserField = "GENDER"
	UserCountry        UserField = "COUNTRY"
	UserRegion         UserField = "REGION"
	UserCity           UserField = "CITY"
	UserStreet         UserField = "STREET"
	UserPostalCode     UserField = "POSTAL_CODE"
	UserUserAgent      UserField = "USER_AGENT"
	UserOS             UserField = "OS"
	UserDeviceName     UserField = "DEVICE_NAME"
	UserDeviceType     UserField = "DEVICE_TYPE"
	UserLanguage       UserField = "LANGUAGE"
	UserResolution     UserField = "RESOLUTION"
	UserIPAddress      UserField = "IP_ADDRESS"
	UserBrowserFamily  UserField = "BROWSER_FAMILY"
	UserBrowserVersion UserField = "BROWSER_VERSION"
	UserTimezone       UserField = "TIMEZONE"
	UserCurrentURL     UserField = "CURRENT_URL"
	UserUserID         UserField = "USER_ID"
	UserPageViews      UserField = "PAGE_VIEWS" // integer counter
	UserFirstSeen      UserField = "FIRST_SEEN" // time
	UserLastSeen       UserField = "LAST_SEEN"  // time
	UserCreatedAt      UserField = "CREATED_AT" // time
)

// CompanyField names a standard field of a company.
type CompanyField string

// The company fields. Text fields unless noted.
const (
	CompanyGroupID     CompanyField = "GROUP_ID"
	CompanyName        CompanyField = "NAME"
	CompanyDescription CompanyField = "DESCRIPTION"
	CompanyEmail       CompanyField = "EMAIL"
	CompanyPhone       CompanyField = "PHONE"
	CompanyCountry     CompanyField = "COUNTRY"
	CompanyRegion      CompanyField = "REGION"
	CompanyCity        CompanyField = "CITY"
	CompanyStreet      CompanyField = "STREET"
	CompanyPostalCode  CompanyField = "POSTAL_CODE"
	CompanyEmployees   CompanyField = "EMPLOYEES"  // integer
	CompanyCreatedAt   CompanyField = "CREATED_AT" // time
)

// columnKind is the type of a standard column.
type columnKind int

const (
	colText columnKind = iota
	colInt
	colTime
)

type column struct {
	name string
	kind columnKind
}

var userColumns = map[UserField]column{
	UserEmail:          {"email", colText},
	UserFirstName:      {"first_name", colText},
	UserLastName:       {"last_name", colText},
	UserPhone:          {"phone", colText},
	UserGender:         {"gender", colText},
	UserCountry:        {"country", colText},
	UserRegion:         {"region", colText},
	UserCity:           {"city", colText},
	UserStreet:         {"street", colText},
	UserPostalCode:     {"postal_code", colText},
	UserUserAgent:      {"user_agent", colText},
	UserOS:             {"os", colText},
	UserDeviceName:     {"device_name", colText},
	UserDeviceType:     {"device_type", colText},
	UserLanguage:       {"language", colText},
	UserResolution:     {"resolution", colText},
	UserIPAddress:      {"ip_address", colText},
	UserBrowserFamily:  {"browser_family", colText},
	UserBrowserVersion: {"browser_version", colText},
	UserTimezone:       {"timezone", colText},
	UserCurrentURL:     {"current_url", colText},
	UserUserID:         {"user_id", colText},
	UserPageViews:      {"page_views", colInt},
	UserFirstSeen:      {"first_seen", colTime},
	UserLastSeen:       {"last_seen", colTime},
	UserCreatedAt:      {"created_at", colTime},
}

var companyColumns = map[CompanyField]column{
	CompanyGroupID:     {"group_id", colText},
	CompanyName:        {"name", colText},
	CompanyDescription: {"description", colText},
	CompanyEmail:       {"email", colText},
	CompanyPhone:       {"phone", colText},
	CompanyCountry:     {"country", colText},
	CompanyRegion:      {"region", colText},
	CompanyCity:        {"city", colText},
	CompanyStreet:      {"street", colText},
	CompanyPostalCode:  {"postal_code", colText},
	CompanyEmployees:   {"employees", colInt},
	CompanyCreatedAt:   {"created_at", colTime},
}

// UserFields lists every user field, in the order of the GraphQL enum.
func UserFields() []UserField {
	return []UserField{UserEmail, UserFirstName, UserLastName, UserPhone, UserGender,
		UserCountry, UserRegion, UserCity, UserStreet, UserPostalCode, UserUserAgent, UserOS,
		UserDeviceName, UserDeviceType, UserLanguage, UserResolution, UserIPAddress,
		UserBrowserFamily, UserBrowserVersion, UserTimezone, UserCurrentURL, UserUserID,
		UserPageViews, UserFirstSeen, UserLastSeen, UserCreatedAt}
}

// CompanyFields lists every company field, in the order of the GraphQL enum.
func CompanyFields() []CompanyField {
	return []CompanyField{CompanyGroupID, CompanyName, CompanyDescription, CompanyEmail,
		CompanyPhone, CompanyCountry, CompanyRegion, CompanyCity, CompanyStreet,
		CompanyPostalCode, CompanyEmployees, CompanyCreatedAt}
}

// Valid reports whether o is a defined operator.
func (o Operator) Valid() bool {
	for _, x := range Operators() {
		if o == x {
			return true
		}
	}
	return false
}

// Valid reports whether c is a defined count operator.
func (c CountOp) Valid() bool { return c == AtLeast || c == AtMost || c == Exactly }

// Valid reports whether f is a defined user field.
func (f UserField) Valid() bool { _, ok := userColumns[f]; return ok }

// Valid reports whether f is a defined company field.
func (f CompanyField) Valid() bool { _, ok := companyColumns[f]; return ok }

// gqlgen binds GraphQL enums to these types through MarshalGQL and UnmarshalGQL.

func unmarshalEnum(v any, valid func(string) bool, name string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s must be a string", name)
	}
	if !valid(s) {
		return "", fmt.Errorf("%q is not a valid %s", s, name)
	}
	return s, nil
}

func marshalEnum(w io.Writer, s string) { _, _ = io.WriteString(w, strconv.Quote(s)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (o *Operator) UnmarshalGQL(v any) error {
	s, err := unmarshalEnum(v, func(s string) bool { return Operator(s).Valid() }, "FilterOperator")
	*o = Operator(s)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (o Operator) MarshalGQL(w io.Writer) { marshalEnum(w, string(o)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (c *CountOp) UnmarshalGQL(v any) error {
	s, err := unmarshalEnum(v, func(s string) bool { return CountOp(s).Valid() }, "CountOperator")
	*c = CountOp(s)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (c CountOp) MarshalGQL(w io.Writer) { marshalEnum(w, string(c)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (f *UserField) UnmarshalGQL(v any) error {
	s, err := unmarshalEnum(v, func(s string) bool { return UserField(s).Valid() }, "UserFilterField")
	*f = UserField(s)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (f UserField) MarshalGQL(w io.Writer) { marshalEnum(w, string(f)) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (f *CompanyField) UnmarshalGQL(v any) error {
	s, err := unmarshalEnum(v, func(s string) bool { return CompanyField(s).Valid() }, "CompanyFilterField")
	*f = CompanyField(s)
	return err
}

// MarshalGQL implements graphql.Marshaler.
func (f CompanyField) MarshalGQL(w io.Writer) { marshalEnum(w, string(f)) }

// Decode reads a filter from its JSON form (the GraphQL input as JSON, as saved segments
// keep it). Numbers are kept exact (json.Number) and unknown fields are refused. It does
// not validate the filter against definitions: call Validate for that.
func Decode(data []byte) (*Filter, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var f Filter
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("filter: unexpected data after the filter")
	}
	return &f, nil
}

// FromMap reads a filter from a decoded JSON object, such as the filter_tree column of a
// saved segment.
func FromMap(m map[string]any) (*Filter, error) {
	if m == nil {
		return nil, nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return Decode(data)
}

// Map returns the JSON object form of f, for storing it (a nil filter is an empty object).
func (f *Filter) Map() (map[string]any, error) {
	m := map[string]any{}
	if f == nil {
		return m, nil
	}
	data, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return m, nil
}
