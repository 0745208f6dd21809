// Package config loads a slipway configuration directory into a typed model.
//
// A configuration is every *.hcl file of one directory except the
// variable-value files (*.vars.hcl). Load parses them with one hclparse.Parser,
// decodes every block through the declarative Schema table, resolves variable
// values (defaults, SLIPWAY_VAR_<name>, *.auto.vars.hcl, <env>.vars.hcl,
// -var-file and -var, lowest precedence first), evaluates locals in dependency
// order, and validates the result as a whole, reporting every problem at once
// as hcl.Diagnostics with source ranges.
//
// Values derived from a sensitive variable carry the cty mark SensitiveMark;
// decoding turns that mark into a Sensitive flag (EnvVar, Secret) and refuses
// it where a value would be shown or stored in clear (an env name among
// them). Diagnostics never quote a sensitive value: an expression that
// fails on one names its references instead, and a diagnostic about a
// variable-value file that sets one is marked HidesSource.
//
// The package never prints; callers render diagnostics with
// hcl.NewDiagnosticTextWriter and Config.Files, leaving out the source lines
// of those that HidesSource reports.
package config
