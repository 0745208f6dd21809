// Docgen writes slipway's generated reference documentation from the code
// that defines it, so the two cannot drift apart:
//
//   - docs/configuration.md from config.Reference(), the schema table that
//     also drives decoding, with each check kind's attributes from
//     checks.Attributes;
//   - docs/cli.md from the urfave/cli application cli.App(): every command
//     with its usage, flags and example.
//
// Run it from the module root with `make docs` or `go run ./internal/docgen`;
// -check changes nothing and exits 1 when a file is stale. Its test fails
// when the committed files differ from what it would write.
package main
