//! keepalived.conf parser: the tutorial configs, the sample corpus (golden), robustness.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use sim_core::keepalived::conf::*;
use sim_core::time::SimDuration;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

fn parse_with(text: &str, file: &str, id: Option<&str>) -> Parsed {
    let ctx = ConfContext {
        config_id: id.map(str::to_string),
    };
    parse(text, file, &NoFiles, &ctx)
}

fn parse_str(text: &str) -> Parsed {
    parse_with(text, "keepalived.conf", Some("lvs-master"))
}

fn messages(p: &Parsed) -> Vec<String> {
    p.diagnostics.iter().map(|d| d.message.clone()).collect()
}

fn check_tutorial(p: &Parsed, master: bool) {
    let c = &p.config;
    assert_eq!(c.global_defs.router_id.as_deref(), Some("LVS_DEVEL"));
    assert_eq!(c.vrrp_instances.len(), 1);
    let v = &c.vrrp_instances[0];
    assert_eq!(v.name, "VI_1");
    let state = if master {
        VrrpState::Master
    } else {
        VrrpState::Backup
    };
    assert_eq!(v.configured_state, Some(state));
    assert_eq!(v.state, state);
    assert_eq!(v.interface.as_deref(), Some("ens33"));
    assert_eq!(v.virtual_router_id, 62);
    assert_eq!(v.priority, if master { 200 } else { 100 });
    assert_eq!(v.advert_int, SimDuration::from_secs(1));
    // nopreempt is cleared on the master only.
    assert_eq!(v.nopreempt, !master);
    let auth = v.authentication.as_ref().unwrap();
    assert_eq!(auth.auth_type, AuthType::Pass);
    assert_eq!(auth.auth_pass, "1111");
    assert_eq!(v.virtual_ipaddress.len(), 1);
    let vip = &v.virtual_ipaddress[0];
    assert_eq!(vip.address, "192.168.59.135".parse::<IpAddr>().unwrap());
    assert_eq!(vip.prefix, 32);
    assert_eq!(vip.loc.line, 19);

    assert_eq!(c.virtual_servers.len(), 1);
    let vs = &c.virtual_servers[0];
    assert_eq!(
        vs.target,
        VsTarget::Addr {
            addr: "192.168.59.135".parse().unwrap(),
            port: 80
        }
    );
    assert_eq!(vs.lvs_sched, "wrr");
    assert_eq!(vs.lvs_method, LvsMethod::Dr);
    assert_eq!(vs.protocol, Some(Protocol::Tcp));
    assert_eq!(vs.persistence_timeout, Some(50));
    assert_eq!(vs.delay_loop, SimDuration::from_secs(3));
    assert_eq!(vs.quorum, 1);
    assert_eq!(vs.real_servers.len(), 2);
    for (rs, ip, line) in vs
        .real_servers
        .iter()
        .zip(["192.168.59.131", "192.168.59.132"])
        .zip([30, 39])
        .map(|((r, i), l)| (r, i, l))
    {
        assert_eq!(rs.addr, ip.parse::<IpAddr>().unwrap());
        assert_eq!(rs.port, 80);
        assert_eq!(rs.weight, 1);
        assert_eq!(rs.lvs_method, LvsMethod::Dr);
        assert_eq!(rs.loc.line, line);
        assert_eq!(rs.checkers.len(), 1);
        let ch = &rs.checkers[0];
        assert_eq!(ch.kind, CheckerKind::Tcp);
        let conn = ch.conn.as_ref().unwrap();
        assert_eq!(conn.connect_timeout, SimDuration::from_secs(3));
        assert_eq!(conn.connect_port, 80);
        assert_eq!(conn.connect_ip, rs.addr);
        assert_eq!(ch.retry, 3);
        assert_eq!(ch.delay_before_retry, SimDuration::from_secs(3));
        assert_eq!(ch.delay_loop, SimDuration::from_secs(3));
        assert_eq!(ch.warmup, SimDuration::from_secs(3));
    }

    // Diagnostics: the two full-width-space warnings (both files), nopreempt (master only).
    let mut expected = vec![
        (
            34,
            21,
            "WARNING - invalid number '3\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}'"
                .to_string(),
        ),
        (
            35,
            34,
            "WARNING - invalid number '3\u{3000}\u{3000}\u{3000}'".to_string(),
        ),
    ];
    if master {
        expected.push((
            7,
            3,
            "(VI_1) Warning - nopreempt will not work with initial state MASTER - clearing"
                .to_string(),
        ));
    }
    let got: Vec<(usize, usize, String)> = p
        .diagnostics
        .iter()
        .map(|d| (d.line, d.column, d.message.clone()))
        .collect();
    assert_eq!(got, expected);
    assert!(
        p.diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning)
    );
    assert!(!p.has_errors());
    assert!(p.diagnostics[0].hint.as_deref().unwrap().contains("U+3000"));
}

#[test]
fn tutorial_master_verbatim() {
    let text = read("scenarios/keepalived/tutorial-master.conf");
    assert!(text.starts_with("! Configuration File for keepalived\n  \n  global_defs {"));
    assert!(text.contains("retry 3\u{3000}"));
    let p = parse_with(&text, "tutorial-master.conf", Some("lvs-master"));
    check_tutorial(&p, true);
}

#[test]
fn tutorial_backup_verbatim() {
    let text = read("scenarios/keepalived/tutorial-backup.conf");
    assert!(text.starts_with("  ! Configuration File for keepalived\n"));
    let p = parse_with(&text, "tutorial-backup.conf", Some("lvs-backup"));
    check_tutorial(&p, false);
}

#[test]
fn corpus_golden() {
    let dir = root().join("scenarios/keepalived-corpus");
    let golden = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/keepalived/"
    ));
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 25, "the corpus has 25 files");
    let mut failures = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        // conditional_conf is written for `keepalived -i high` / `-i low`.
        let id = if name.ends_with("conditional_conf") {
            Some("high")
        } else {
            Some("lvs-master")
        };
        let p = parse_with(&text, name, id);
        let got = format!("# {name}\n{}", p.summary());
        let path = golden.join(format!("{name}.txt"));
        if update {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&path, &got).unwrap();
        } else {
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if want != got {
                failures.push(format!(
                    "{name}: golden mismatch\n--- want\n{want}\n--- got\n{got}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(run with UPDATE_GOLDEN=1 to accept)",
        failures.join("\n")
    );
}

#[test]
fn corpus_unknown_keywords_are_rare() {
    let dir = root().join("scenarios/keepalived-corpus");
    let mut unknown = BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        let p = parse_str(&std::fs::read_to_string(e.path()).unwrap());
        for d in &p.diagnostics {
            if d.message.starts_with("Unknown keyword") {
                unknown.insert((name.clone(), d.line), d.message.clone());
            }
        }
    }
    // Only the two sync-group members written without `group { }` (real keepalived
    // rejects them too).
    let got: Vec<_> = unknown.into_iter().collect();
    assert_eq!(
        got,
        vec![
            (
                ("keepalived.conf.vrrp.lvs_syncd".to_string(), 4),
                "Unknown keyword 'VI_2'".to_string()
            ),
            (
                ("keepalived.conf.vrrp.lvs_syncd".to_string(), 5),
                "Unknown keyword 'VI_3'".to_string()
            ),
        ]
    );
}

#[test]
fn conditional_config_ids() {
    let text = read("scenarios/keepalived-corpus/keepalived.conf.conditional_conf");
    let high = parse_with(&text, "c", Some("high"));
    let low = parse_with(&text, "c", Some("low"));
    let none = parse_with(&text, "c", None);
    assert_eq!(high.config.net_namespace.as_deref(), Some("high"));
    assert_eq!(low.config.net_namespace.as_deref(), Some("low"));
    assert_eq!(none.config.net_namespace, None);
    assert_eq!(high.config.vrrp_instances[0].priority, 170);
    assert_eq!(low.config.vrrp_instances[0].priority, 85);
    // No priority line applies: BACKUP → 100.
    assert_eq!(none.config.vrrp_instances[0].priority, 100);
    assert_eq!(
        high.config.vrrp_scripts[0].script.as_deref(),
        Some("/etc/keepalived/scripts/check_high_VI_0.sh")
    );
    assert_eq!(
        high.config.vrrp_scripts[0].timeout,
        SimDuration::from_secs(10)
    );
    let p = parse_with("@^high net_namespace other\n", "c", Some("high"));
    assert_eq!(p.config.net_namespace, None);
    let p = parse_with("@^high net_namespace other\n", "c", Some("low"));
    assert_eq!(p.config.net_namespace.as_deref(), Some("other"));
}

#[test]
fn definitions_and_substitution() {
    let text = "$IF=eth1\n$VIPS=10.0.0.1 \\\n  10.0.0.2\nvrrp_instance V {\n interface $IF\n virtual_router_id 9\n virtual_ipaddress {\n  $VIPS\n }\n}\n";
    let p = parse_str(text);
    let v = &p.config.vrrp_instances[0];
    assert_eq!(v.interface.as_deref(), Some("eth1"));
    let vips: Vec<String> = v
        .virtual_ipaddress
        .iter()
        .map(|e| e.address.to_string())
        .collect();
    assert_eq!(vips, ["10.0.0.1", "10.0.0.2"]);
    assert!(p.diagnostics.is_empty(), "{:?}", messages(&p));
}

struct MapLoader(BTreeMap<String, String>);

impl ConfLoader for MapLoader {
    fn load(&self, path: &str) -> Option<String> {
        self.0.get(path).cloned()
    }
    fn glob(&self, pattern: &str) -> Vec<String> {
        match pattern.strip_suffix('*') {
            Some(prefix) => self
                .0
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect(),
            None => vec![pattern.to_string()],
        }
    }
}

#[test]
fn includes_resolve_relative_and_globs() {
    let mut files = BTreeMap::new();
    files.insert(
        "/etc/keepalived/conf.d/a.conf".to_string(),
        "vrrp_instance A {\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n"
            .to_string(),
    );
    files.insert(
        "/etc/keepalived/conf.d/b.conf".to_string(),
        "vrrp_instance B {\n virtual_router_id 2\n bogus_kw 1\n virtual_ipaddress {\n 10.0.0.2\n }\n}\n".to_string(),
    );
    let loader = MapLoader(files);
    let text = "global_defs {\n router_id X\n}\ninclude conf.d/*\ninclude missing.conf\n";
    let p = parse(
        text,
        "/etc/keepalived/keepalived.conf",
        &loader,
        &ConfContext::default(),
    );
    let names: Vec<&str> = p
        .config
        .vrrp_instances
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(names, ["A", "B"]);
    assert_eq!(
        p.config.vrrp_instances[1].loc.file,
        "/etc/keepalived/conf.d/b.conf"
    );
    let d: Vec<String> = p
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.file, d.line, d.message))
        .collect();
    assert!(
        d.contains(&"/etc/keepalived/conf.d/b.conf:3: Unknown keyword 'bogus_kw'".to_string()),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|s| s.contains("No config files matched '/etc/keepalived/missing.conf'")),
        "{d:?}"
    );
}

#[test]
fn refusals_are_errors_with_lines() {
    let text = "vrrp_instance A {\n  virtual_router_id 0\n  priority 300\n  virtual_ipaddress {\n    10.0.0.1\n  }\n}\nvrrp_instance B {\n  virtual_router_id 256\n}\n";
    let p = parse_str(text);
    let e: Vec<(usize, usize, String)> = p
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.line, d.column, d.message.clone()))
        .collect();
    assert!(
        e.contains(&(
            2,
            21,
            "(A): VRID '0' not valid - must be between 1 & 255".to_string()
        )),
        "{e:?}"
    );
    assert!(
        e.contains(&(
            3,
            12,
            "(A) Priority not valid! must be between 1 & 255. Using default 100".to_string()
        )),
        "{e:?}"
    );
    assert!(
        e.contains(&(
            9,
            21,
            "(B): VRID '256' not valid - must be between 1 & 255".to_string()
        )),
        "{e:?}"
    );
    assert!(
        e.contains(&(1, 1, "(A) the virtual router id must be set".to_string())),
        "{e:?}"
    );
    assert!(p.config.vrrp_instances.is_empty());
    assert!(p.has_errors());
}

#[test]
fn defaults_and_keepalived_fixups() {
    let text = "virtual_server 10.0.0.1 80 {\n  persistence_timeout\n  real_server 10.0.0.2 8080 {\n    HTTP_GET {\n      url {\n        path /\n      }\n      nb_get_retry 2\n    }\n    MISC_CHECK {\n      misc_path \"/bin/true x\"\n    }\n  }\n}\n";
    let p = parse_str(text);
    let m = messages(&p);
    assert!(
        m.contains(
            &"Virtual server [10.0.0.1]:0:80: no protocol set - defaulting to UDP".to_string()
        ),
        "{m:?}"
    );
    assert!(
        m.contains(
            &"Virtual server [10.0.0.1]:udp:80: no scheduler set, setting default 'wlc'"
                .to_string()
        ),
        "{m:?}"
    );
    assert!(
        m.contains(
            &"Virtual server [10.0.0.1]:udp:80: no forwarding method set, setting default NAT"
                .to_string()
        ),
        "{m:?}"
    );
    assert!(
        m.contains(&"nb_get_retry is deprecated - please use 'retry'".to_string()),
        "{m:?}"
    );
    let vs = &p.config.virtual_servers[0];
    assert_eq!(vs.protocol, Some(Protocol::Udp));
    assert_eq!(vs.lvs_sched, "wlc");
    assert_eq!(vs.lvs_method, LvsMethod::Nat);
    assert_eq!(vs.persistence_timeout, Some(360));
    assert_eq!(vs.delay_loop, SimDuration::from_secs(60));
    let rs = &vs.real_servers[0];
    assert_eq!(rs.port, 8080, "NAT keeps its own port");
    let http = &rs.checkers[0];
    assert_eq!(http.retry, 2);
    assert_eq!(http.delay_before_retry, SimDuration::from_secs(3));
    assert_eq!(
        http.conn.as_ref().unwrap().connect_timeout,
        SimDuration::from_secs(5)
    );
    assert_eq!(http.urls[0].status_codes, [(200, 299)]);
    let misc = &rs.checkers[1];
    assert_eq!(misc.retry, 0);
    assert_eq!(misc.delay_before_retry, SimDuration::from_secs(1));
    assert_eq!(misc.misc_path.as_deref(), Some("/bin/true x"));
    assert!(misc.conn.is_none());
}

#[test]
fn inheritance_vs_rs_checker() {
    let text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n lvs_sched rr\n lvs_method DR\n delay_loop 2.5\n connect_timeout 4\n retry 5\n delay_before_retry 0.25\n warmup 0\n inhibit_on_failure\n real_server 10.0.0.2 {\n  connect_timeout 7\n  TCP_CHECK {\n  }\n  TCP_CHECK {\n   retry 0\n   delay_loop 1\n   connect_port 81\n  }\n }\n}\n";
    let p = parse_str(text);
    assert!(p.diagnostics.is_empty(), "{:?}", messages(&p));
    let rs = &p.config.virtual_servers[0].real_servers[0];
    assert_eq!(rs.port, 80);
    assert!(rs.inhibit_on_failure);
    let a = &rs.checkers[0];
    assert_eq!(a.retry, 5);
    assert_eq!(a.delay_loop, SimDuration::from_millis(2500));
    assert_eq!(a.delay_before_retry, SimDuration::from_millis(250));
    assert_eq!(a.warmup, SimDuration::ZERO);
    assert_eq!(
        a.conn.as_ref().unwrap().connect_timeout,
        SimDuration::from_secs(7)
    );
    assert_eq!(a.conn.as_ref().unwrap().connect_port, 80);
    let b = &rs.checkers[1];
    assert_eq!(b.retry, 0);
    assert_eq!(b.delay_loop, SimDuration::from_secs(1));
    assert_eq!(b.conn.as_ref().unwrap().connect_port, 81);
}

#[test]
fn comments_braces_and_quotes() {
    let text = "vrrp_script s { script \"echo # not a comment\" ! but this is\n interval 2 }\nvrrp_instance X { virtual_router_id 7 # c\n virtual_ipaddress { 10.1.1.1/24 dev eth0 label eth0:1 } }\n";
    let p = parse_str(text);
    assert!(p.diagnostics.is_empty(), "{:?}", messages(&p));
    assert_eq!(
        p.config.vrrp_scripts[0].script.as_deref(),
        Some("echo # not a comment")
    );
    assert_eq!(p.config.vrrp_scripts[0].interval, SimDuration::from_secs(2));
    let vip = &p.config.vrrp_instances[0].virtual_ipaddress[0];
    assert_eq!(vip.prefix, 24);
    assert_eq!(vip.dev.as_deref(), Some("eth0"));
    assert_eq!(vip.label.as_deref(), Some("eth0:1"));
}

#[test]
fn unbalanced_braces_are_reported() {
    let p = parse_str("}\nvrrp_instance X {\n virtual_router_id 1\n");
    let m = messages(&p);
    assert!(m.contains(&"Extra '}' found".to_string()), "{m:?}");
    assert!(
        m.contains(&"There are 1 missing '}'s or extra '{'s".to_string()),
        "{m:?}"
    );
}

#[test]
fn never_panics_on_pathological_input() {
    let deep = "a {\n".repeat(5000);
    let _ = parse_str(&deep);
    let _ = parse_str(&"}\n".repeat(1000));
    let _ = parse_str("$A=$A $A\n$A\n");
    let _ = parse_str("$A=${A}${A}\nx $A\n");
    let _ = parse_str("\"\n\"\"\n\\\n$\n@\n@^\n~SEQ(\n{\n");
    let _ = parse_str("virtual_server\nreal_server\nvrrp_instance\nvirtual_server fwmark\n");
}

fn corpus_texts() -> Vec<String> {
    let dir = root().join("scenarios/keepalived-corpus");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    v.push(read("scenarios/keepalived/tutorial-master.conf"));
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_arbitrary_text(s in "\\PC*") {
        let _ = parse_str(&s);
    }

    #[test]
    fn never_panics_on_keepalived_ish_text(
        s in proptest::collection::vec(
            prop_oneof![
                Just("{".to_string()), Just("}".to_string()), Just("\n".to_string()),
                Just(" ".to_string()), Just("\"".to_string()), Just("#".to_string()),
                Just("!".to_string()), Just("\\".to_string()), Just("$X=".to_string()),
                Just("$X".to_string()), Just("@high ".to_string()), Just("include x\n".to_string()),
                Just("vrrp_instance".to_string()), Just("virtual_server".to_string()),
                Just("real_server".to_string()), Just("TCP_CHECK".to_string()),
                Just("HTTP_GET".to_string()), Just("url".to_string()), Just("10.0.0.1".to_string()),
                Just("80".to_string()), Just("-1".to_string()), Just("1e999".to_string()),
                Just("0.000001".to_string()), Just("fwmark".to_string()), Just("group".to_string()),
                Just("virtual_ipaddress".to_string()), Just("\u{3000}".to_string()),
            ],
            0..200,
        )
    ) {
        let _ = parse_str(&s.concat());
    }

    #[test]
    fn never_panics_on_mutated_corpus(
        file in 0usize..26,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..16),
    ) {
        let texts = corpus_texts();
        let mut chars: Vec<char> = texts[file % texts.len()].chars().collect();
        for (idx, op, c) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let i = idx.index(chars.len());
            match op {
                0 => { chars.remove(i); }
                1 => chars.insert(i, c),
                2 => chars[i] = c,
                _ => {
                    let j = (i + 40).min(chars.len());
                    let dup: Vec<char> = chars[i..j].to_vec();
                    chars.splice(i..i, dup);
                }
            }
        }
        let s: String = chars.into_iter().collect();
        let p = parse_str(&s);
        let _ = p.summary();
    }
}
