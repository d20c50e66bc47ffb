use super::*;
use serde_json::json;

fn scope() -> Value {
    json!({
        "$context": {
            "body": {"id": "abc", "n": 5, "price": 1.5, "paid": true, "none": null,
                     "items": [{"id": 10}, {"id": 11}], "obj": {"a": 1}},
            "headers": {"x-request-id": "r-1"}
        },
        "$jobsMapByNodeKey": {"calc1": 42, "n1": {"ok": true}},
        "$system": {"now": "2026-01-02T03:04:05Z"},
        "$execution": {"id": "e-1"},
        "$workflow": {"key": "1hfmkioou0d"}
    })
}

fn render(template: &str) -> Value {
    render_str(template, &scope())
}

#[test]
fn a_lone_placeholder_yields_the_typed_value() {
    assert_eq!(render("{{$context.body.n}}"), json!(5));
    assert_eq!(render("{{$context.body.price}}"), json!(1.5));
    assert_eq!(render("{{$context.body.paid}}"), json!(true));
    assert_eq!(render("{{$context.body.obj}}"), json!({"a": 1}));
    assert_eq!(
        render("{{$context.body.items}}"),
        json!([{"id": 10}, {"id": 11}])
    );
    assert_eq!(render("{{$context.body.id}}"), json!("abc"));
    assert_eq!(render("{{ $context.body.items[1].id }}"), json!(11));
    assert_eq!(render("{{$context.headers.x-request-id}}"), json!("r-1"));
    assert_eq!(render("{{$jobsMapByNodeKey.calc1}}"), json!(42));
    assert_eq!(render("{{$system.now}}"), json!("2026-01-02T03:04:05Z"));
    assert_eq!(render("{{$execution.id}}"), json!("e-1"));
    assert_eq!(render("{{$workflow.key}}"), json!("1hfmkioou0d"));
}

#[test]
fn a_missing_lone_placeholder_is_null() {
    assert_eq!(render("{{$context.body.missing}}"), Value::Null);
    assert_eq!(render("{{$context.body.none}}"), Value::Null);
    assert_eq!(render("{{$nothing}}"), Value::Null);
}

#[test]
fn placeholders_in_text_are_written_in() {
    assert_eq!(render("id={{$context.body.id}}"), json!("id=abc"));
    assert_eq!(render("{{$context.body.n}} items"), json!("5 items"));
    assert_eq!(
        render("{{$context.body.id}}-{{$context.body.n}}"),
        json!("abc-5")
    );
    assert_eq!(render("paid: {{$context.body.paid}}"), json!("paid: true"));
    assert_eq!(render("p={{$context.body.price}}"), json!("p=1.5"));
    assert_eq!(render("o={{$context.body.obj}}"), json!(r#"o={"a":1}"#));
    assert_eq!(
        render("i={{$context.body.items}}"),
        json!(r#"i=[{"id":10},{"id":11}]"#)
    );
    assert_eq!(
        render("[{{$context.body.none}}|{{$context.body.nope}}]"),
        json!("[|]")
    );
    assert_eq!(render(" {{$context.body.n}}"), json!(" 5"));
}

#[test]
fn text_without_placeholders_is_unchanged() {
    for text in ["", "plain", "a } b", "{\"a\":{\"b\":1}}", "}} {", "{ {a} }"] {
        assert_eq!(render(text), json!(text));
    }
}

#[test]
fn defaults_apply_to_missing_and_null_values() {
    assert_eq!(render("{{$context.body.missing:0}}"), json!(0));
    assert_eq!(render("{{$context.body.none:0}}"), json!(0));
    assert_eq!(render("{{$context.body.n:0}}"), json!(5));
    assert_eq!(render("{{x:true}}"), json!(true));
    assert_eq!(render(r#"{{x:"a"}}"#), json!("a"));
    assert_eq!(render("{{x:anonymous}}"), json!("anonymous"));
    assert_eq!(render("{{ x : anonymous }}"), json!("anonymous"));
    assert_eq!(render("{{x:[1,2]}}"), json!([1, 2]));
    assert_eq!(render("{{x:}}"), json!(""));
    assert_eq!(render("{{x:a:b}}"), json!("a:b"));
    assert_eq!(render("hello {{x:anonymous}}!"), json!("hello anonymous!"));
    assert_eq!(render("n={{x:0}}"), json!("n=0"));
    assert_eq!(render(r#"s={{x:"q"}}"#), json!("s=q"));
}

#[test]
fn stray_braces_are_text() {
    assert_eq!(render("{{{$context.body.id}}}"), json!("{abc}"));
    assert_eq!(render("a}}b{{$context.body.n}}"), json!("a}}b5"));
    assert_eq!(render("{{a {{$context.body.n}}"), json!("{{a 5"));
    assert_eq!(render("{{$context.body.n"), json!("{{$context.body.n"));
}

#[test]
fn render_value_renders_every_nested_string_but_not_keys() {
    let config = json!({
        "statusCode": 200,
        "body": {"code": 0, "id": "{{$context.body.id}}", "n": "{{$context.body.n}}",
                 "list": ["{{$context.body.paid}}", "x{{$context.body.n}}", 7, null],
                 "{{$context.body.id}}": "key stays"}
    });
    assert_eq!(
        render_value(&config, &scope()),
        json!({
            "statusCode": 200,
            "body": {"code": 0, "id": "abc", "n": 5,
                     "list": [true, "x5", 7, null],
                     "{{$context.body.id}}": "key stays"}
        })
    );
}

#[test]
fn check_accepts_well_formed_templates() {
    for template in [
        "",
        "plain",
        "{{a}}",
        "{{ $context.body.id }}",
        "x {{a.b}} y {{items[0].id:none}}",
        "{{$context.headers.x-request-id}}",
        "{\"a\":{\"b\":1}}",
        "{{{a}}}",
    ] {
        assert_eq!(check(template), Ok(()), "{template}");
    }
}

#[test]
fn check_rejects_unclosed_empty_and_bad_paths() {
    let err = check("x {{a").unwrap_err();
    assert_eq!(
        err,
        TemplateError::Unclosed {
            placeholder: "{{a".to_owned()
        }
    );
    assert_eq!(err.to_string(), "placeholder `{{a` is not closed with `}}`");
    assert!(
        matches!(check("{{a {{b}}"), Err(TemplateError::Unclosed { placeholder }) if placeholder == "{{a ")
    );
    assert!(matches!(check("{{}}"), Err(TemplateError::Empty { .. })));
    assert!(matches!(check("{{  }}"), Err(TemplateError::Empty { .. })));
    assert!(matches!(check("{{:5}}"), Err(TemplateError::Empty { .. })));
    let err = check("ok {{a..b}}").unwrap_err();
    assert!(matches!(err, TemplateError::InvalidPath { .. }), "{err}");
    assert!(err.to_string().contains("{{a..b}}"), "{err}");
    assert!(err.to_string().contains("empty segment"), "{err}");
    assert!(matches!(
        check("{{items[x]}}"),
        Err(TemplateError::InvalidPath { .. })
    ));
}

#[test]
fn check_value_reports_every_bad_string_with_its_location() {
    let config = json!({
        "statusCode": 200,
        "body": {"items": ["{{ok}}", "{{bad"], "n": "{{}}"},
        "headers": [{"name": "X", "value": "{{a..b}}"}]
    });
    let problems = check_value(&config);
    let locations: Vec<&str> = problems.iter().map(|(at, _)| at.as_str()).collect();
    assert_eq!(
        locations,
        vec!["body.items[1]", "body.n", "headers[0].value"]
    );
    assert_eq!(check_value(&json!("{{x")).len(), 1);
    assert_eq!(check_value(&json!("{{x")).remove(0).0, "");
    assert!(check_value(&json!({"a": ["{{b}}", 1, null]})).is_empty());
}

#[test]
fn placeholder_paths_lists_well_formed_paths() {
    assert_eq!(
        placeholder_paths("{{$context.body.id}} and {{ $system.now:x }} {{}} {{a..b}}"),
        vec!["$context.body.id", "$system.now"]
    );
}
