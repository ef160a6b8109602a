//! Several servers at once, each on its own port and directory.

mod common;

use std::thread;

use sluice_testkit::{MariaDbServer, PgServer};

#[test]
fn servers_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<PgServer>();
    assert_send_sync::<MariaDbServer>();
    assert_send_sync::<sluice_testkit::TestkitError>();
}

#[test]
fn servers_run_side_by_side() {
    let pgs: Vec<_> = (0..2).map(|_| thread::spawn(PgServer::start)).collect();
    let mys: Vec<_> = (0..2)
        .map(|_| thread::spawn(MariaDbServer::start))
        .collect();
    let pgs: Vec<PgServer> = pgs
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    let mys: Vec<MariaDbServer> = mys
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();

    let mut ports: Vec<u16> = pgs
        .iter()
        .map(PgServer::port)
        .chain(mys.iter().map(MariaDbServer::port))
        .collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 4, "distinct ports");
    assert_ne!(pgs[0].data_dir(), pgs[1].data_dir());

    // Each server is its own: a table made in one is absent in the other.
    pgs[0]
        .psql("postgres", "CREATE TABLE only_here (id int)")
        .unwrap();
    assert!(pgs[1].psql("postgres", "SELECT * FROM only_here").is_err());
    mys[0].create_database("only_here").unwrap();
    assert_eq!(
        mys[1]
            .sql(
                "",
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'only_here'"
            )
            .unwrap(),
        "0"
    );
    for pg in &pgs {
        assert_eq!(
            pg.psql("postgres", "SHOW port").unwrap(),
            pg.port().to_string()
        );
    }
    for my in &mys {
        assert_eq!(my.sql("", "SELECT @@port").unwrap(), my.port().to_string());
    }

    let dirs: Vec<_> = pgs
        .iter()
        .map(|s| s.data_dir().parent().unwrap().to_path_buf())
        .chain(
            mys.iter()
                .map(|s| s.data_dir().parent().unwrap().to_path_buf()),
        )
        .collect();
    drop(pgs);
    drop(mys);
    for dir in dirs {
        assert!(!dir.exists());
        assert!(common::processes_mentioning(&dir).is_empty());
    }
}
