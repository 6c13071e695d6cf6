//! A generated harness that calls every operation through its generated
//! builder, with argument values supplied at run time.
//!
//! The conformance tier uses it to send one representative request per
//! operation (values chosen from the official OpenAPI document) and check
//! each against that document. It exercises exactly the public API a user
//! calls: service accessor, required arguments, optional setters, `send`.
//!
//! A test concern, so behind the `testing` feature: xo-sdk's build script
//! (its only caller) writes it to `xo_samples.rs`, which
//! `tests/conformance_dynamic.rs` includes.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::type_tokens;
use crate::ir::{Api, Kind, Param, ParamType, RequestBody, Response};

fn type_name(ty: ParamType) -> &'static str {
    match ty {
        ParamType::String | ParamType::FileUrl => "string",
        ParamType::Integer => "integer",
        ParamType::Number => "number",
        ParamType::Boolean => "boolean",
        ParamType::Array => "array",
        ParamType::Object => "object",
    }
}

fn value_type(p: &Param, types: &TokenStream) -> TokenStream {
    if let Some(t) = &p.value_type {
        let t = type_tokens(t, types);
        return match p.ty {
            ParamType::Array => quote!(::std::vec::Vec<#t>),
            _ => t,
        };
    }
    match p.ty {
        ParamType::String | ParamType::FileUrl => quote!(::std::string::String),
        ParamType::Integer => quote!(i64),
        ParamType::Number => quote!(f64),
        ParamType::Boolean => quote!(bool),
        ParamType::Array => quote!(::std::vec::Vec<::xo_sdk::runtime::Value>),
        ParamType::Object => quote!(::xo_sdk::runtime::JsonMap),
    }
}

/// The call that sets a parameter which the typed methods manage (the
/// builder has no public setter for it), through the kind's trait.
fn managed_setter(kind: &Kind, name: &str) -> Option<TokenStream> {
    Some(match (kind, name) {
        (Kind::Collection { .. }, "fields") => {
            quote!(builder = ::xo_sdk::xo::Collection::set_fields(builder, v);)
        }
        (Kind::Collection { .. }, "ndjson") => {
            quote!(if v {
                builder = ::xo_sdk::xo::Collection::set_ndjson(builder);
            })
        }
        (Kind::Collection { markdown: true, .. }, "markdown") => {
            quote!(if v {
                builder = ::xo_sdk::xo::MarkdownTable::set_markdown(builder);
            })
        }
        (Kind::Action { .. }, "sync") => {
            quote!(builder = ::xo_sdk::xo::Action::set_sync(builder, v);)
        }
        _ => return None,
    })
}

/// Rust source of `pub fn every_operation(client, values) -> Vec<SampleCall>`
/// for the crate that contains the generated client (`crate::Client` with
/// its resource accessors); `types_path` is the path of its `types` module.
pub fn emit_samples(api: &Api, client_path: &str, types_path: &str) -> String {
    let client_path: TokenStream = client_path.parse().expect("a Rust path");
    let types_path: TokenStream = format!("{types_path}::").parse().expect("a Rust path");
    let calls = api.operations.iter().map(|op| {
        let tool = &op.tool;
        let service = format_ident!("{}", op.module);
        let method = format_ident!("{}", op.method_name);
        let mut args = Vec::new();
        let mut setters = Vec::new();
        for p in &op.params {
            let name = &p.name;
            let ty = value_type(p, &types_path);
            let ident = format_ident!("{}", p.rust_name);
            let kind = type_name(p.ty);
            if p.required {
                args.push(quote!(required::<#ty>(&values, #tool, #name, #kind)?));
            } else {
                let set = managed_setter(&op.kind, name).unwrap_or(quote!(builder = builder.#ident(v);));
                setters.push(quote! {
                    if let ::core::option::Option::Some(v) = optional::<#ty>(&values, #tool, #name, #kind)? {
                        #set
                    }
                });
            }
        }
        if matches!(op.request_body, RequestBody::Raw { .. }) {
            args.push(quote!(::xo_sdk::runtime::Body::from(::std::vec::Vec::from([0u8; 512]))));
        }
        let send = match op.response {
            // The raw exchange, whatever the typed answer: the tier checks
            // the wire against the document, not the decoding.
            Response::Json => quote!(builder.into_request().send_json::<::xo_sdk::runtime::Value>().await.map(drop)),
            Response::Binary { .. } | Response::Streaming => {
                quote!(builder.send().await?.collect().await.map(drop))
            }
        };
        let mutability = (!setters.is_empty()).then(|| quote!(mut));
        let capture_values = (!op.params.is_empty()).then(|| quote!(let values = values.clone();));
        quote! {
            calls.push(SampleCall {
                tool: #tool,
                call: ::std::boxed::Box::pin({
                    let client = client.clone();
                    #capture_values
                    async move {
                        #[allow(deprecated)]
                        let #mutability builder = client.#service().#method(#(#args),*);
                        #(#setters)*
                        #send
                    }
                }),
            });
        }
    });
    let tokens = quote! {
        /// One operation call, ready to be awaited.
        pub struct SampleCall {
            /// The DADL tool.
            pub tool: &'static str,
            /// The call.
            pub call: ::std::pin::Pin<::std::boxed::Box<dyn ::core::future::Future<Output = ::xo_sdk::Result<()>>>>,
        }

        /// Supplies a JSON value for (tool, wire parameter name, DADL type), or
        /// `None` to leave an optional parameter unset.
        pub type Values = ::std::rc::Rc<dyn Fn(&str, &str, &str) -> ::core::option::Option<::xo_sdk::runtime::Value>>;

        fn convert<T: ::xo_sdk::runtime::DeserializeOwned>(tool: &'static str, name: &str, v: ::xo_sdk::runtime::Value) -> ::xo_sdk::Result<T> {
            ::serde_json::from_value(v).map_err(|e| ::xo_sdk::Error::Config(::std::format!("sample value for {tool}.{name}: {e}")))
        }

        fn required<T: ::xo_sdk::runtime::DeserializeOwned>(values: &Values, tool: &'static str, name: &str, kind: &str) -> ::xo_sdk::Result<T> {
            match values(tool, name, kind) {
                ::core::option::Option::Some(v) => convert(tool, name, v),
                ::core::option::Option::None => ::core::result::Result::Err(::xo_sdk::Error::Config(::std::format!("no sample value for required {tool}.{name}"))),
            }
        }

        fn optional<T: ::xo_sdk::runtime::DeserializeOwned>(values: &Values, tool: &'static str, name: &str, kind: &str) -> ::xo_sdk::Result<::core::option::Option<T>> {
            values(tool, name, kind).map(|v| convert(tool, name, v)).transpose()
        }

        /// One call per operation of the API, in DADL file order.
        pub fn every_operation(client: &#client_path, values: Values) -> ::std::vec::Vec<SampleCall> {
            // Statements rather than one `vec![]`, so that the formatter
            // lays the calls out (it does not format macro bodies).
            let mut calls = ::std::vec::Vec::new();
            #(#calls)*
            calls
        }
    };
    let file: syn::File = match syn::parse2(tokens) {
        Ok(f) => f,
        Err(e) => panic!("xo-codegen produced unparsable sample tokens (a generator bug): {e}"),
    };
    format!(
        "// @generated by xo-codegen: a call of every operation of `{}`. Do not edit.\n\n{}",
        api.name,
        prettyplease::unparse(&file)
    )
}
