package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions returns the functions available to expressions: the go-cty
// stdlib set Terraform users know, plus env, file, base64encode,
// base64decode, startswith, endswith, sensitive, try and can. dir is the
// configuration directory file() paths are relative to; environ is read by
// env().
func functions(dir string, environ []string) map[string]function.Function {
	return map[string]function.Function{
		"abs":           stdlib.AbsoluteFunc,
		"ceil":          stdlib.CeilFunc,
		"floor":         stdlib.FloorFunc,
		"max":           stdlib.MaxFunc,
		"min":           stdlib.MinFunc,
		"parseint":      stdlib.ParseIntFunc,
		"pow":           stdlib.PowFunc,
		"signum":        stdlib.SignumFunc,
		"format":        stdlib.FormatFunc,
		"formatlist":    stdlib.FormatListFunc,
		"join":          stdlib.JoinFunc,
		"split":         stdlib.SplitFunc,
		"lower":         stdlib.LowerFunc,
		"upper":         stdlib.UpperFunc,
		"title":         stdlib.TitleFunc,
		"trimspace":     stdlib.TrimSpaceFunc,
		"trim":          stdlib.TrimFunc,
		"trimprefix":    stdlib.TrimPrefixFunc,
		"trimsuffix":    stdlib.TrimSuffixFunc,
		"chomp":         stdlib.ChompFunc,
		"indent":        stdlib.IndentFunc,
		"replace":       stdlib.ReplaceFunc,
		"regex":         stdlib.RegexFunc,
		"regexall":      stdlib.RegexAllFunc,
		"regex_replace": stdlib.RegexReplaceFunc,
		"substr":        stdlib.SubstrFunc,
		"strlen":        stdlib.StrlenFunc,
		"length":        lengthFunc(),
		"lookup":        stdlib.LookupFunc,
		"merge":         stdlib.MergeFunc,
		"keys":          stdlib.KeysFunc,
		"values":        stdlib.ValuesFunc,
		"concat":        stdlib.ConcatFunc,
		"contains":      stdlib.ContainsFunc,
		"distinct":      stdlib.DistinctFunc,
		"flatten":       stdlib.FlattenFunc,
		"element":       stdlib.ElementFunc,
		"index":         stdlib.IndexFunc,
		"chunklist":     stdlib.ChunklistFunc,
		"coalesce":      coalesceFunc(),
		"coalescelist":  stdlib.CoalesceListFunc,
		"compact":       stdlib.CompactFunc,
		"range":         stdlib.RangeFunc,
		"reverse":       stdlib.ReverseListFunc,
		"sort":          stdlib.SortFunc,
		"slice":         stdlib.SliceFunc,
		"zipmap":        stdlib.ZipmapFunc,
		"setunion":      stdlib.SetUnionFunc,
		"tostring":      stdlib.MakeToFunc(cty.String),
		"tonumber":      stdlib.MakeToFunc(cty.Number),
		"tobool":        stdlib.MakeToFunc(cty.Bool),
		"tolist":        stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":         stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"toset":         stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"jsonencode":    stdlib.JSONEncodeFunc,
		"jsondecode":    stdlib.JSONDecodeFunc,
		"csvdecode":     stdlib.CSVDecodeFunc,
		"formatdate":    stdlib.FormatDateFunc,
		"base64encode":  base64EncodeFunc(),
		"base64decode":  base64DecodeFunc(),
		"startswith":    prefixFunc(strings.HasPrefix),
		"endswith":      prefixFunc(strings.HasSuffix),
		"sensitive":     sensitiveFunc(),
		"try":           tryfunc.TryFunc,
		"can":           tryfunc.CanFunc,
		"env":           envFunc(environ),
		"file":          fileFunc(dir),
	}
}

// lookupEnv returns the last value of name in environ, as os.Getenv would.
func lookupEnv(environ []string, name string) (string, bool) {
	val, found := "", false
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			val, found = v, true
		}
	}
	return val, found
}

// envFunc returns env(name): the value of an environment variable of
// environ, "" when unset.
func envFunc(environ []string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of an environment variable, or an empty string when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, _ := lookupEnv(environ, args[0].AsString())
			return cty.StringVal(v), nil
		},
	})
}

// fileFunc returns file(path): a UTF-8 file's contents, relative paths
// resolved against dir.
func fileFunc(dir string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the contents of a UTF-8 text file; a relative path is relative to the configuration directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return cty.NilVal, fmt.Errorf("read file %q: %w", args[0].AsString(), err)
			}
			if !utf8.Valid(b) {
				return cty.NilVal, fmt.Errorf("read file %q: contents are not valid UTF-8", args[0].AsString())
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

// base64EncodeFunc is base64encode(string).
func base64EncodeFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Encodes a string with standard base64.",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(args[0].AsString()))), nil
		},
	})
}

// base64DecodeFunc is base64decode(string).
func base64DecodeFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Decodes a standard base64 string holding UTF-8 text.",
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := base64.StdEncoding.DecodeString(args[0].AsString())
			if err != nil {
				return cty.NilVal, fmt.Errorf("decode base64: %w", err)
			}
			if !utf8.Valid(b) {
				return cty.NilVal, fmt.Errorf("decode base64: result is not valid UTF-8")
			}
			return cty.StringVal(string(b)), nil
		},
	})
}

// prefixFunc builds startswith / endswith from strings.HasPrefix / HasSuffix.
func prefixFunc(test func(s, affix string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "affix", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(test(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

// sensitiveFunc is sensitive(value): the value marked sensitive.
func sensitiveFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Marks a value as sensitive: it and everything computed from it are never printed or stored.",
		Params:      []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowMarked: true, AllowNull: true, AllowUnknown: true, AllowDynamicType: true}},
		Type: func(args []cty.Value) (cty.Type, error) {
			return args[0].Type(), nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return args[0].Mark(SensitiveMark), nil
		},
	})
}

// lengthFunc is length(value): the number of characters of a string, or of
// elements of a list, set, map, tuple or object, as in Terraform.
func lengthFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the number of characters of a string, or of elements of a collection.",
		Params:      []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true}},
		Type: func(args []cty.Value) (cty.Type, error) {
			ty := args[0].Type()
			if ty == cty.String || ty == cty.DynamicPseudoType || ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType() {
				return cty.Number, nil
			}
			return cty.NilType, function.NewArgErrorf(0, "value must be a string, a collection or a structure, not %s", ty.FriendlyName())
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v := args[0]
			switch ty := v.Type(); {
			case ty == cty.String:
				return stdlib.Strlen(v)
			case ty.IsObjectType():
				return cty.NumberIntVal(int64(len(ty.AttributeTypes()))), nil
			}
			return stdlib.Length(v)
		},
	})
}

// coalesceFunc is coalesce(vals...): the first argument that is neither null
// nor an empty string, as in Terraform (go-cty's skips only nulls).
func coalesceFunc() function.Function {
	inner := stdlib.CoalesceFunc
	return function.New(&function.Spec{
		Description: "Returns the first argument that is neither null nor an empty string.",
		VarParam:    &function.Parameter{Name: "vals", Type: cty.DynamicPseudoType, AllowUnknown: true, AllowDynamicType: true, AllowNull: true},
		Type: func(args []cty.Value) (cty.Type, error) {
			return inner.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
			for _, a := range args {
				v, err := convert.Convert(a, retType)
				if err != nil {
					return cty.NilVal, err
				}
				if v.IsNull() {
					continue
				}
				if !v.IsKnown() {
					return cty.UnknownVal(retType), nil
				}
				if retType == cty.String && v.AsString() == "" {
					continue
				}
				return v, nil
			}
			return cty.NilVal, errors.New("no non-null, non-empty-string arguments")
		},
	})
}
