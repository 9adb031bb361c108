// Package words spells counts for the operator, one rule for every message: "1 user",
// "2 users", "0 users"; "it" or "them" for what a sentence about them calls them.
package words
