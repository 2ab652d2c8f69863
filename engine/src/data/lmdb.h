// A small RAII wrapper over liblmdb: a read-only database walked in key order (wrapping around at
// the end) for the Data layer, and a writer with batched transactions and a growing map for
// `lamina data`. Every failure throws LmdbError naming the database path and LMDB's message.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace lamina::engine {

struct LmdbError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An open environment (the directory holding data.mdb). Read-only environments are shared within the
// process by path: LMDB forbids opening one database twice in a process (its locks are per process),
// and the train and test nets may read the same source.
class LmdbEnv {
public:
  // Throws LmdbError for a missing directory, a directory without data.mdb, or a file LMDB rejects.
  static std::shared_ptr<LmdbEnv> openReadOnly(const std::string &path);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv &) = delete;
  LmdbEnv &operator=(const LmdbEnv &) = delete;
  const std::string &path() const { return path_; }
  uint64_t entries() const; // number of records
  MDB_env *env() const { return env_; }

private:
  LmdbEnv() = default;
  MDB_env *env_ = nullptr;
  std::string path_;
};

// A read cursor over a database in key order. next() wraps around to the first record after the last.
// Holds one read transaction for its life (a snapshot of the database); usable from any one thread
// at a time (the environment is opened with MDB_NOTLS).
class LmdbCursor {
public:
  explicit LmdbCursor(std::shared_ptr<LmdbEnv> env);
  ~LmdbCursor();
  LmdbCursor(const LmdbCursor &) = delete;
  LmdbCursor &operator=(const LmdbCursor &) = delete;

  uint64_t size() const { return size_; }
  // The current record (valid until the cursor moves). Throws when the database is empty.
  std::string key() const;
  const void *value(size_t *bytes) const;
  std::string valueString() const;
  // Moves to the next record (to the first after the last); returns true when it wrapped.
  bool next();
  void rewind();
  // Moves to the record at ordinal index % size() (walks from the first record: O(index)).
  void seekOrdinal(uint64_t index);
  uint64_t ordinal() const { return ordinal_; }
  const std::string &path() const { return env_->path(); }

private:
  void fetch(unsigned op);
  std::shared_ptr<LmdbEnv> env_;
  MDB_txn *txn_ = nullptr;
  MDB_cursor *cursor_ = nullptr;
  uint64_t size_ = 0, ordinal_ = 0;
  struct Val {
    size_t size = 0;
    void *data = nullptr;
  } key_, value_;
};

// Writes a new database: puts are buffered and committed every `batch` records; when the map is full
// the map size doubles and the batch is written again. commit() (or the destructor) writes the rest.
class LmdbWriter {
public:
  // Creates the directory `path` if needed. Refuses (LmdbError) when it already holds a database.
  explicit LmdbWriter(const std::string &path, size_t batch = 1000, size_t initialMapBytes = size_t(1) << 30);
  ~LmdbWriter();
  LmdbWriter(const LmdbWriter &) = delete;
  LmdbWriter &operator=(const LmdbWriter &) = delete;
  void put(std::string key, std::string value);
  void commit();
  uint64_t written() const { return written_; }
  size_t mapSize() const { return mapSize_; }

private:
  void flush();
  MDB_env *env_ = nullptr;
  std::string path_;
  size_t batch_, mapSize_;
  std::vector<std::pair<std::string, std::string>> pending_;
  uint64_t written_ = 0;
};

} // namespace lamina::engine
