// Package codeshape holds no code: its tests check the shape of slipway's
// own source, so that what a review would ask for is asked by `go test`.
//
// TestNoLongFunctions: no function in a non-test .go file of the
// repository is longer than MaxFunctionLines, from `func` to its closing
// brace, except the entries of the allow-list in its test (the
// config.Reference table, which is data). A function that grows past the
// limit is split where its phases are: the helpers get names and doc
// comments, and the tests of the package prove the behaviour unchanged.
package codeshape

// MaxFunctionLines is the most lines a non-test function may have.
const MaxFunctionLines = 80
