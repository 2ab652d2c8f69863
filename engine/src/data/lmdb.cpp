// liblmdb behind RAII: errors carry the database path and mdb_strerror's text.
#include "engine/src/data/lmdb.h"

#include <lmdb.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>

namespace fs = std::filesystem;

namespace lamina::engine {

namespace {
[[noreturn]] void fail(const std::string &path, const std::string &what, int rc) {
  throw LmdbError("LMDB database '" + path + "': " + what + ": " + mdb_strerror(rc));
}
void check(int rc, const std::string &path, const char *what) {
  if (rc != MDB_SUCCESS)
    fail(path, what, rc);
}

// The data file of a database: `path`/data.mdb for a directory, `path` itself otherwise.
fs::path dataFile(const std::string &path, bool *isDir) {
  std::error_code ec;
  *isDir = fs::is_directory(path, ec);
  return *isDir ? fs::path(path) / "data.mdb" : fs::path(path);
}

std::mutex registryMutex;
std::map<std::string, std::weak_ptr<LmdbEnv>> &registry() {
  static std::map<std::string, std::weak_ptr<LmdbEnv>> r;
  return r;
}
} // namespace

std::shared_ptr<LmdbEnv> LmdbEnv::openReadOnly(const std::string &path) {
  bool isDir = false;
  fs::path file = dataFile(path, &isDir);
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw LmdbError("LMDB database '" + path + "' does not exist");
  if (!fs::is_regular_file(file, ec))
    throw LmdbError("LMDB database '" + path + "': no data.mdb in it (not an LMDB database)");
  // Shared by file identity, not by name: a database replaced under the same name is a new one.
  struct stat sb;
  if (::stat(file.c_str(), &sb) != 0)
    throw LmdbError("LMDB database '" + path + "': cannot stat " + file.string());
  const std::string key = std::to_string(sb.st_dev) + ":" + std::to_string(sb.st_ino);

  std::lock_guard<std::mutex> lock(registryMutex);
  if (auto shared = registry()[key].lock())
    return shared;

  std::shared_ptr<LmdbEnv> e(new LmdbEnv);
  e->path_ = path;
  check(mdb_env_create(&e->env_), path, "mdb_env_create");
  unsigned flags = MDB_RDONLY | MDB_NOTLS | (isDir ? 0u : unsigned(MDB_NOSUBDIR));
  int rc = mdb_env_open(e->env_, path.c_str(), flags, 0664);
  if (rc == EACCES || rc == EROFS) {
    // A read-only folder (e.g. a shared data set): no lock file can be made; read without locking.
    mdb_env_close(e->env_);
    e->env_ = nullptr;
    check(mdb_env_create(&e->env_), path, "mdb_env_create");
    rc = mdb_env_open(e->env_, path.c_str(), flags | MDB_NOLOCK, 0664);
  }
  if (rc != MDB_SUCCESS) {
    mdb_env_close(e->env_);
    e->env_ = nullptr;
    fail(path, rc == MDB_INVALID ? "not an LMDB database (or corrupt)" : "cannot open", rc);
  }
  // LMDB maps the file: reading a page past the end of a truncated file would raise SIGBUS, so the
  // size the database claims is checked against the file's size first.
  MDB_envinfo info;
  MDB_stat st;
  check(mdb_env_info(e->env_, &info), path, "mdb_env_info");
  check(mdb_env_stat(e->env_, &st), path, "mdb_env_stat");
  const uintmax_t need = uintmax_t(info.me_last_pgno + 1) * st.ms_psize;
  const uintmax_t have = fs::file_size(file, ec);
  if (ec || have < need)
    throw LmdbError("LMDB database '" + path + "': data file is truncated (" + std::to_string(have) +
                    " bytes, the database needs " + std::to_string(need) + ")");
  registry()[key] = e;
  return e;
}

LmdbEnv::~LmdbEnv() {
  if (env_)
    mdb_env_close(env_);
}

uint64_t LmdbEnv::entries() const {
  MDB_stat st;
  check(mdb_env_stat(env_, &st), path_, "mdb_env_stat");
  return st.ms_entries;
}

LmdbCursor::LmdbCursor(std::shared_ptr<LmdbEnv> env) : env_(std::move(env)) {
  const std::string &p = env_->path();
  check(mdb_txn_begin(env_->env(), nullptr, MDB_RDONLY, &txn_), p, "mdb_txn_begin");
  MDB_dbi dbi;
  int rc = mdb_dbi_open(txn_, nullptr, 0, &dbi);
  MDB_stat st;
  if (rc == MDB_SUCCESS)
    rc = mdb_stat(txn_, dbi, &st);
  if (rc == MDB_SUCCESS)
    rc = mdb_cursor_open(txn_, dbi, &cursor_);
  if (rc != MDB_SUCCESS) {
    mdb_txn_abort(txn_);
    fail(p, "cannot read", rc);
  }
  size_ = st.ms_entries;
  if (size_)
    fetch(MDB_FIRST);
}

LmdbCursor::~LmdbCursor() {
  if (cursor_)
    mdb_cursor_close(cursor_);
  if (txn_)
    mdb_txn_abort(txn_);
}

void LmdbCursor::fetch(unsigned op) {
  MDB_val k{0, nullptr}, v{0, nullptr};
  int rc = mdb_cursor_get(cursor_, &k, &v, MDB_cursor_op(op));
  if (rc == MDB_NOTFOUND && op == MDB_NEXT) {
    fetch(MDB_FIRST);
    return;
  }
  check(rc, env_->path(), "mdb_cursor_get");
  key_ = {k.mv_size, k.mv_data};
  value_ = {v.mv_size, v.mv_data};
}

std::string LmdbCursor::key() const {
  if (!size_)
    throw LmdbError("LMDB database '" + path() + "' is empty");
  return std::string(static_cast<const char *>(key_.data), key_.size);
}

const void *LmdbCursor::value(size_t *bytes) const {
  if (!size_)
    throw LmdbError("LMDB database '" + path() + "' is empty");
  *bytes = value_.size;
  return value_.data;
}

std::string LmdbCursor::valueString() const {
  size_t n = 0;
  const void *p = value(&n);
  return std::string(static_cast<const char *>(p), n);
}

bool LmdbCursor::next() {
  if (!size_)
    throw LmdbError("LMDB database '" + path() + "' is empty");
  if (++ordinal_ == size_) {
    rewind();
    return true;
  }
  fetch(MDB_NEXT);
  return false;
}

void LmdbCursor::rewind() {
  ordinal_ = 0;
  if (size_)
    fetch(MDB_FIRST);
}

void LmdbCursor::seekOrdinal(uint64_t index) {
  if (!size_)
    throw LmdbError("LMDB database '" + path() + "' is empty");
  index %= size_;
  if (index < ordinal_)
    rewind();
  while (ordinal_ < index)
    next();
}

LmdbWriter::LmdbWriter(const std::string &path, size_t batch, size_t initialMapBytes)
    : path_(path), batch_(batch ? batch : 1), mapSize_(initialMapBytes) {
  std::error_code ec;
  if (fs::exists(fs::path(path) / "data.mdb", ec))
    throw LmdbError("LMDB database '" + path + "' already exists (remove it first)");
  fs::create_directories(path, ec);
  if (ec)
    throw LmdbError("LMDB database '" + path + "': cannot create the directory: " + ec.message());
  check(mdb_env_create(&env_), path, "mdb_env_create");
  int rc = mdb_env_set_mapsize(env_, mapSize_);
  // No sync per transaction while converting: one mdb_env_sync at commit().
  if (rc == MDB_SUCCESS)
    rc = mdb_env_open(env_, path.c_str(), MDB_NOSYNC, 0664);
  if (rc != MDB_SUCCESS) {
    mdb_env_close(env_);
    env_ = nullptr;
    fail(path, "cannot create", rc);
  }
}

LmdbWriter::~LmdbWriter() {
  if (!env_)
    return;
  try {
    commit();
  } catch (...) {
    // A destructor must not throw; callers that care call commit() themselves.
  }
  mdb_env_close(env_);
}

void LmdbWriter::put(std::string key, std::string value) {
  pending_.emplace_back(std::move(key), std::move(value));
  if (pending_.size() >= batch_)
    flush();
}

void LmdbWriter::flush() {
  if (pending_.empty())
    return;
  for (;;) {
    MDB_txn *txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), path_, "mdb_txn_begin");
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (size_t i = 0; rc == MDB_SUCCESS && i < pending_.size(); ++i) {
      MDB_val k{pending_[i].first.size(), pending_[i].first.data()};
      MDB_val v{pending_[i].second.size(), pending_[i].second.data()};
      rc = mdb_put(txn, dbi, &k, &v, 0);
    }
    if (rc == MDB_SUCCESS) {
      rc = mdb_txn_commit(txn); // frees txn whatever the outcome
    } else {
      mdb_txn_abort(txn);
    }
    if (rc == MDB_MAP_FULL) {
      mapSize_ *= 2; // no transaction is open now, so the map may grow
      check(mdb_env_set_mapsize(env_, mapSize_), path_, "mdb_env_set_mapsize");
      continue;
    }
    check(rc, path_, "mdb_put");
    break;
  }
  written_ += pending_.size();
  pending_.clear();
}

void LmdbWriter::commit() {
  flush();
  check(mdb_env_sync(env_, 1), path_, "mdb_env_sync");
}

} // namespace lamina::engine
