//! Sweep files: parsing, the point grid, seeds and every rewrite.

use std::path::Path;

use super::rewrite;
use super::spec::{self, Rewrite};

const SETUP: &str = "\
[root@lvs ~]#  ipvsadm -A -t 192.168.59.135:80 -s rr
### a comment that mentions ipvsadm -A -t 1.2.3.4:80 -s rr
[root@lvs ~]#  ipvsadm -a -t 192.168.59.135:80 -r 192.168.59.131:80 -g -w 1
ipvsadm -a -t 192.168.59.135:80 -r 192.168.59.132:80 -g -w 1
ipvsadm -a -t 192.168.59.135:80 -r 192.168.59.133:80 -w 1
    lb_algo rr
    lb_kind DR
";

fn s(v: &str) -> toml::Value {
    toml::Value::String(v.into())
}

#[test]
fn scheduler_rewrites_ipvsadm_and_lb_algo_lines_only() {
    let out = rewrite::text(SETUP, &Rewrite::Scheduler, &s("wlc")).unwrap();
    assert!(
        out.contains("[root@lvs ~]#  ipvsadm -A -t 192.168.59.135:80 -s wlc\n"),
        "{out}"
    );
    assert!(out.contains("### a comment that mentions ipvsadm -A -t 1.2.3.4:80 -s rr\n"));
    assert!(out.contains("    lb_algo wlc\n"));
    assert_eq!(out.matches("-s wlc").count(), 1);
}

#[test]
fn method_weights_and_servers_rewrite_dest_lines() {
    let out = rewrite::text(SETUP, &Rewrite::Method, &s("nat")).unwrap();
    assert_eq!(out.matches(" -m").count(), 3, "{out}");
    assert!(!out.contains(" -g") && out.contains("lb_kind NAT"));
    let w: toml::Value = toml::Value::Array(vec![1.into(), 2.into(), 4.into()]);
    let out = rewrite::text(SETUP, &Rewrite::Weights, &w).unwrap();
    assert!(
        out.contains("192.168.59.131:80 -g -w 1\n") && out.contains("192.168.59.132:80 -g -w 2\n")
    );
    assert!(out.contains("192.168.59.133:80 -w 4\n"), "{out}");
    let short = toml::Value::Array(vec![1.into()]);
    assert!(
        rewrite::text(SETUP, &Rewrite::Weights, &short)
            .unwrap_err()
            .contains("1 weights given for 3")
    );
    let out = rewrite::text(SETUP, &Rewrite::Servers, &toml::Value::Integer(2)).unwrap();
    assert!(out.contains(".132:80") && !out.contains(".133:80"), "{out}");
    assert!(
        rewrite::text("echo hi\n", &Rewrite::Scheduler, &s("rr"))
            .unwrap_err()
            .contains("found no")
    );
    assert!(rewrite::text(SETUP, &Rewrite::Method, &s("carrier-pigeon")).is_err());
}

#[test]
fn set_reaches_tables_and_array_elements() {
    let mut doc: toml::Table = toml::from_str(
        "[workload]\nrate = 1.0\n[[server]]\nhost = \"a\"\n[[server]]\nhost = \"b\"\n",
    )
    .unwrap();
    let p = |x: &str| x.split('.').map(str::to_string).collect::<Vec<_>>();
    rewrite::set(&mut doc, &p("workload.rate"), toml::Value::Float(5.0)).unwrap();
    rewrite::set(&mut doc, &p("server.1.host"), s("c")).unwrap();
    let out = toml::to_string(&doc).unwrap();
    assert!(
        out.contains("rate = 5.0") && out.contains("host = \"c\"") && out.contains("host = \"a\""),
        "{out}"
    );
    assert!(
        rewrite::set(&mut doc, &p("server.7.host"), s("x"))
            .unwrap_err()
            .contains("no `server.7`")
    );
    assert!(
        rewrite::set(&mut doc, &p("nothing.here"), s("x"))
            .unwrap_err()
            .contains("no `nothing`")
    );
}

const SWEEP: &str = r#"
[sweep]
name = "t"
scenario = "base.toml"

[[axis]]
name = "scheduler"
values = ["rr", "wlc"]
rewrite = "scheduler"

[[axis]]
name = "rate"
values = [100.0, 200.0, 300.0]
labels = ["100", "200", "300"]
set = "workload.rate"
"#;

#[test]
fn points_are_a_cross_product_with_parameter_seeds() {
    let sw = spec::parse(Path::new("dir/t.toml"), SWEEP).unwrap();
    assert_eq!(sw.scenario, Path::new("dir/base.toml"));
    let pts = sw.points();
    assert_eq!(pts.len(), 6);
    assert_eq!(pts[0].key, "scheduler=rr/rate=100");
    assert_eq!(pts[4].key, "scheduler=wlc/rate=200");
    // A seed depends on the point's parameters only.
    let seeds: std::collections::BTreeSet<u64> = pts.iter().map(|p| sw.seed(7, p)).collect();
    assert_eq!(seeds.len(), 6);
    let again = spec::parse(Path::new("elsewhere/t.toml"), SWEEP).unwrap();
    assert_eq!(sw.seed(7, &pts[4]), again.seed(7, &again.points()[4]));
    assert_ne!(sw.seed(7, &pts[4]), sw.seed(8, &pts[4]));
    let base = "[scenario]\nname = \"b\"\nseed = 7\n[workload]\nrate = 1.0\n[[host]]\nname = \"lvs\"\nsetup = \"\"\"\nipvsadm -A -t 10.0.0.1:80 -s rr\n\"\"\"\n";
    let text = sw.rewrite(base, &pts[4]).unwrap();
    assert!(
        text.contains("rate = 200.0") && text.contains("-s wlc"),
        "{text}"
    );
    let shared = SWEEP.replace(
        "scenario = \"base.toml\"",
        "scenario = \"base.toml\"\nseed = \"shared\"",
    );
    let sw2 = spec::parse(Path::new("t.toml"), &shared).unwrap();
    assert_eq!(sw2.seed(7, &pts[4]), 7);
}

#[test]
fn bad_sweep_files_say_where_and_how_to_fix() {
    let e = spec::parse(Path::new("t.toml"), "[sweep]\nname = 1\n").unwrap_err();
    assert!(e.starts_with("t.toml:2:"), "{e}");
    let e = spec::parse(
        Path::new("t.toml"),
        &SWEEP.replace("rewrite = \"scheduler\"", "rewrite = \"colour\""),
    )
    .unwrap_err();
    assert!(
        e.contains("unknown rewrite \"colour\"") && e.contains("hint:"),
        "{e}"
    );
    let bad_plot = format!("{SWEEP}\n[[plot]]\ntitle = \"x\"\nx = \"rate\"\ny = \"speed\"\n");
    assert!(
        spec::parse(Path::new("t.toml"), &bad_plot)
            .unwrap_err()
            .contains("not a result column")
    );
    let bad_group = format!("{SWEEP}\n[[plot]]\ntitle = \"x\"\nx = \"rate\"\ngroup = \"colour\"\n");
    assert!(
        spec::parse(Path::new("t.toml"), &bad_group)
            .unwrap_err()
            .contains("not an axis")
    );
    let no_axes = "[sweep]\nname = \"t\"\nscenario = \"b.toml\"\n";
    assert!(
        spec::parse(Path::new("t.toml"), no_axes)
            .unwrap_err()
            .contains("no [[axis]]")
    );
}
