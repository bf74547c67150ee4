package segmentation

// SavedSegment is a named filter, as the segments an app starts with.
type SavedSegment struct {
	Name        string
	Description string
	Filter      *Filter
}

// Defaults returns the segments every new app starts with (a fresh copy each call).
func Defaults() []SavedSegment {
	return []SavedSegment{
		{
			Name:        "Active",
			Description: "Seen in the last 30 days.",
			Filter:      &Filter{Field: &FieldCondition{Field: UserLastSeen, Operator: WithinLastDays, Days: intPtr(30)}},
		},
		{
			Name:        "New",
			Description: "First seen in the last 24 hours.",
			Filter:      &Filter{Field: &FieldCondition{Field: UserFirstSeen, Operator: WithinLastDays, Hours: intPtr(24)}},
		},
		{
			Name:        "With email",
			Description: "Users whose email address is known.",
			Filter:      &Filter{Field: &FieldCondition{Field: UserEmail, Operator: IsSet}},
		},
		{
			Name:        "Slipping away",
			Description: "Not seen for 30 days: last seen more than 30 days ago.",
			Filter:      &Filter{Field: &FieldCondition{Field: UserLastSeen, Operator: MoreThanDaysAgo, Days: intPtr(30)}},
		},
	}
}

func intPtr(n int) *int { return &n }
