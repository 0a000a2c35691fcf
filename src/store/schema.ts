/**
 * The index schema as forward migrations. Migration N brings the schema from version
 * N-1 to N; `user_version` records the current one. Never edit a shipped migration:
 * add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the whole base schema.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );

  -- One row per version. number is per model; pushed_to lists remotes that have it.
  CREATE TABLE versions (
    id TEXT PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id),
    number INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    file_count INTEGER NOT NULL,
    total_size INTEGER NOT NULL,
    identity TEXT NOT NULL,
    parent_id TEXT,
    git_commit TEXT,
    git_dirty INTEGER,
    archived INTEGER NOT NULL DEFAULT 0,
    UNIQUE (model_id, number)
  );
  CREATE INDEX versions_parent ON versions(parent_id);

  CREATE TABLE files (
    version_id TEXT NOT NULL REFERENCES versions(id),
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mode INTEGER NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (version_id, path)
  ) WITHOUT ROWID;
  CREATE INDEX files_digest ON files(digest);

  -- Whole-file objects present in the local store.
  CREATE TABLE objects (
    digest TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Every chunk of every known file (local object or not): chunk -> (file, offset, length).
  CREATE TABLE chunks (
    file_digest TEXT NOT NULL,
    seq INTEGER NOT NULL,
    digest TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    PRIMARY KEY (file_digest, seq)
  ) WITHOUT ROWID;
  CREATE INDEX chunks_digest ON chunks(digest);

  CREATE TABLE params (
    version_id TEXT NOT NULL REFERENCES versions(id),
    key TEXT NOT NULL,
    value_json TEXT NOT NULL,
    PRIMARY KEY (version_id, key)
  ) WITHOUT ROWID;

  CREATE TABLE metrics (
    version_id TEXT NOT NULL REFERENCES versions(id),
    key TEXT NOT NULL,
    value_json TEXT NOT NULL,
    value_num REAL,
    PRIMARY KEY (version_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX metrics_key_num ON metrics(key, value_num);

  CREATE TABLE lineage_inputs (
    version_id TEXT NOT NULL REFERENCES versions(id),
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    digest TEXT,
    size INTEGER,
    detail_json TEXT NOT NULL,
    PRIMARY KEY (version_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX lineage_inputs_digest ON lineage_inputs(digest);

  CREATE TABLE tags (
    model_id INTEGER NOT NULL REFERENCES models(id),
    name TEXT NOT NULL,
    version_id TEXT NOT NULL REFERENCES versions(id),
    message TEXT,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    PRIMARY KEY (model_id, name)
  ) WITHOUT ROWID;
  CREATE INDEX tags_version ON tags(version_id);

  CREATE TABLE stages (
    model_id INTEGER NOT NULL REFERENCES models(id),
    stage TEXT NOT NULL,
    version_id TEXT NOT NULL REFERENCES versions(id),
    previous_version_id TEXT,
    event_id TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (model_id, stage)
  ) WITHOUT ROWID;
  CREATE INDEX stages_version ON stages(version_id);

  CREATE TABLE stage_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    model_id INTEGER NOT NULL REFERENCES models(id),
    stage TEXT NOT NULL,
    version_id TEXT,
    previous_version_id TEXT,
    event_id TEXT,
    at TEXT NOT NULL
  );
  CREATE INDEX stage_history_model_stage ON stage_history(model_id, stage, seq);

  -- Append-only audit events with a local hash chain (hash covers prev_hash and payload).
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    model TEXT,
    version_id TEXT,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    pushed INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX events_model ON events(model, seq);
  CREATE INDEX events_version ON events(version_id);

  -- Stat cache: a file whose (size, mtime, ctime, inode) is unchanged keeps its digest.
  CREATE TABLE stat_cache (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns TEXT NOT NULL,
    ctime_ns TEXT NOT NULL,
    ino TEXT NOT NULL,
    digest TEXT NOT NULL
  ) WITHOUT ROWID;

  -- Remote bookkeeping: chunks known present, versions pushed, refs last fetched.
  CREATE TABLE remote_chunks (
    remote TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (remote, digest)
  ) WITHOUT ROWID;
  CREATE TABLE remote_versions (
    remote TEXT NOT NULL,
    version_id TEXT NOT NULL,
    number INTEGER,
    PRIMARY KEY (remote, version_id)
  ) WITHOUT ROWID;
  CREATE TABLE remote_refs (
    remote TEXT NOT NULL,
    key TEXT NOT NULL,
    etag TEXT,
    value_json TEXT,
    PRIMARY KEY (remote, key)
  ) WITHOUT ROWID;
  `,
  // 2: the folder-listing cache of status (workspace/stat-cache.ts): what a plain folder
  // pattern selected, and the stat keys of every folder under it when it did.
  `
  CREATE TABLE folder_listings (
    folder TEXT PRIMARY KEY,
    listing TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 3: signatures (docs/design.md §11). file_sha256: the plain sha256 of each stored file's
  // whole bytes (what OpenSSF Model Signing names a file by), computed from the store once.
  // signatures: OMS signatures and SLSA provenance attestations of versions, one per
  // (version, kind, key), as their exact bundle bytes. remote_signatures: which a remote has.
  `
  CREATE TABLE file_sha256 (
    digest TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE signatures (
    version_id TEXT NOT NULL REFERENCES versions(id),
    kind TEXT NOT NULL,
    key_hint TEXT NOT NULL,
    bundle BLOB NOT NULL,
    bundle_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (version_id, kind, key_hint)
  ) WITHOUT ROWID;

  CREATE TABLE remote_signatures (
    remote TEXT NOT NULL,
    version_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    key_hint TEXT NOT NULL,
    PRIMARY KEY (remote, version_id, kind, key_hint)
  ) WITHOUT ROWID;
  `,
  // 4: per-file tensor summaries (docs/design.md §15): what the header of each model file of a
  // version says (format, counts, dtypes, hints), or why it could not be read. Not part of the
  // manifest, so version ids never depend on it; rebuilt by `verify --rebuild-index`. No foreign
  // key: a summary names a version and path, and is dropped with it (deleteTensorSummaries).
  `
  CREATE TABLE tensor_summaries (
    version_id TEXT NOT NULL,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    format TEXT NOT NULL,
    tensor_count INTEGER,
    parameter_count INTEGER,
    tensor_bytes INTEGER,
    dtypes_json TEXT,
    hints_json TEXT,
    error_code TEXT,
    error_message TEXT,
    PRIMARY KEY (version_id, path)
  ) WITHOUT ROWID;
  CREATE INDEX tensor_summaries_digest ON tensor_summaries(digest);
  `,
  // 5: gc's claims on the objects it is deleting (store/gc-claims.ts, docs/design.md §9): a
  // writer that records a version over a claimed object waits and stores the bytes again.
  `
  CREATE TABLE gc_claims (
    digest TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    at TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 6: the journal of refs (store/ref-journal.ts, docs/design.md §9). Triggers queue every change
  // to version numbers and archived marks, tags, stages and their history, events and what
  // remotes hold, in the transaction that makes it; after the commit the queue is appended
  // to .modelctl/journal.jsonl (fsynced), from which `verify --rebuild-index` restores them
  // when index.db is lost or behind.
  `
  CREATE TABLE journal_pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record TEXT NOT NULL
  );
  CREATE TRIGGER journal_version_insert AFTER INSERT ON versions BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','version','id',NEW.id,'model',(SELECT name FROM models WHERE id = NEW.model_id),'number',NEW.number,'archived',NEW.archived)); END;
  CREATE TRIGGER journal_version_update AFTER UPDATE OF number, archived ON versions
    WHEN OLD.number IS NOT NEW.number OR OLD.archived IS NOT NEW.archived BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','version','id',NEW.id,'model',(SELECT name FROM models WHERE id = NEW.model_id),'number',NEW.number,'archived',NEW.archived)); END;
  CREATE TRIGGER journal_tag_insert AFTER INSERT ON tags BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','tag','model',(SELECT name FROM models WHERE id = NEW.model_id),'name',NEW.name,'version',NEW.version_id,'message',NEW.message,'at',NEW.created_at,'actor',NEW.actor)); END;
  CREATE TRIGGER journal_tag_update AFTER UPDATE ON tags BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','tag','model',(SELECT name FROM models WHERE id = NEW.model_id),'name',NEW.name,'version',NEW.version_id,'message',NEW.message,'at',NEW.created_at,'actor',NEW.actor)); END;
  CREATE TRIGGER journal_tag_delete AFTER DELETE ON tags BEGIN
    INSERT INTO journal_pending (record) VALUES (json_object('k','tag','model',(SELECT name FROM models WHERE id = OLD.model_id),'name',OLD.name,'version',NULL)); END;
  CREATE TRIGGER journal_stage_insert AFTER INSERT ON stages BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','stage','model',(SELECT name FROM models WHERE id = NEW.model_id),'stage',NEW.stage,'version',NEW.version_id,'previous',NEW.previous_version_id,'event',NEW.event_id,'at',NEW.updated_at)); END;
  CREATE TRIGGER journal_stage_update AFTER UPDATE ON stages BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','stage','model',(SELECT name FROM models WHERE id = NEW.model_id),'stage',NEW.stage,'version',NEW.version_id,'previous',NEW.previous_version_id,'event',NEW.event_id,'at',NEW.updated_at)); END;
  CREATE TRIGGER journal_stage_delete AFTER DELETE ON stages BEGIN
    INSERT INTO journal_pending (record) VALUES (json_object('k','stage','model',(SELECT name FROM models WHERE id = OLD.model_id),'stage',OLD.stage,'version',NULL)); END;
  CREATE TRIGGER journal_stage_move AFTER INSERT ON stage_history BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','stage-move','model',(SELECT name FROM models WHERE id = NEW.model_id),'stage',NEW.stage,'version',NEW.version_id,'previous',NEW.previous_version_id,'event',NEW.event_id,'at',NEW.at)); END;
  CREATE TRIGGER journal_event_insert AFTER INSERT ON events BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','event','id',NEW.id,'payload',NEW.payload,'pushed',NEW.pushed)); END;
  CREATE TRIGGER journal_event_pushed AFTER UPDATE OF pushed ON events WHEN OLD.pushed IS NOT NEW.pushed BEGIN
    INSERT INTO journal_pending (record) VALUES (json_object('k','event-pushed','id',NEW.id,'pushed',NEW.pushed)); END;
  CREATE TRIGGER journal_remote_version_insert AFTER INSERT ON remote_versions BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','remote-version','remote',NEW.remote,'id',NEW.version_id,'number',NEW.number)); END;
  CREATE TRIGGER journal_remote_version_update AFTER UPDATE OF number ON remote_versions
    WHEN OLD.number IS NOT NEW.number BEGIN INSERT INTO journal_pending (record) VALUES (json_object('k','remote-version','remote',NEW.remote,'id',NEW.version_id,'number',NEW.number)); END;
  CREATE TRIGGER journal_signature_insert AFTER INSERT ON signatures BEGIN
    INSERT INTO journal_pending (record) VALUES (json_object('k','signature','version',NEW.version_id,'kind',NEW.kind,'keyHint',NEW.key_hint,'bundleHex',hex(NEW.bundle),'bundleId',NEW.bundle_id,'at',NEW.created_at)); END;
  -- What this index already holds goes into the journal first (a repository made before it).
  INSERT INTO journal_pending (record) SELECT json_object('k','version','id',v.id,'model',(SELECT name FROM models WHERE id = v.model_id),'number',v.number,'archived',v.archived) FROM versions v ORDER BY v.model_id, v.number;
  INSERT INTO journal_pending (record) SELECT json_object('k','event','id',e.id,'payload',e.payload,'pushed',e.pushed) FROM events e ORDER BY e.seq;
  INSERT INTO journal_pending (record) SELECT json_object('k','tag','model',(SELECT name FROM models WHERE id = t.model_id),'name',t.name,'version',t.version_id,'message',t.message,'at',t.created_at,'actor',t.actor) FROM tags t;
  INSERT INTO journal_pending (record) SELECT json_object('k','stage-move','model',(SELECT name FROM models WHERE id = h.model_id),'stage',h.stage,'version',h.version_id,'previous',h.previous_version_id,'event',h.event_id,'at',h.at) FROM stage_history h ORDER BY h.seq;
  INSERT INTO journal_pending (record) SELECT json_object('k','stage','model',(SELECT name FROM models WHERE id = s.model_id),'stage',s.stage,'version',s.version_id,'previous',s.previous_version_id,'event',s.event_id,'at',s.updated_at) FROM stages s;
  INSERT INTO journal_pending (record) SELECT json_object('k','remote-version','remote',r.remote,'id',r.version_id,'number',r.number) FROM remote_versions r;
  INSERT INTO journal_pending (record) SELECT json_object('k','signature','version',g.version_id,'kind',g.kind,'keyHint',g.key_hint,'bundleHex',hex(g.bundle),'bundleId',g.bundle_id,'at',g.created_at) FROM signatures g;
  `,
  // 7: published state per remote (docs/design.md §7): which events each remote holds.
  // Events published before this migration are taken to be on every remote this index knew.
  `
  CREATE TABLE remote_events (
    remote TEXT NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (remote, event_id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO remote_events (remote, event_id)
    SELECT r.remote, e.id FROM events e
    JOIN (SELECT remote FROM remote_versions UNION SELECT remote FROM remote_refs) r
    WHERE e.pushed = 1;
  `,
  // 8: remote_events in the ref journal too (store/ref-journal.ts, docs/design.md §9): what
  // each remote holds of the audit trail survives a lost index like the events themselves.
  `
  CREATE TRIGGER journal_remote_event_insert AFTER INSERT ON remote_events BEGIN
    INSERT INTO journal_pending (record) VALUES (json_object('k','remote-event','remote',NEW.remote,'id',NEW.event_id)); END;
  INSERT INTO journal_pending (record) SELECT json_object('k','remote-event','remote',r.remote,'id',r.event_id) FROM remote_events r;
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;
