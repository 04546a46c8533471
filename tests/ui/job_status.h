// The status a RunWorker::job_finished signal carried (typed: imsm::RunStatus),
// by its stored name ("finished", "cancelled", ...) for QCOMPARE.
#pragma once
#include <QList>
#include <QString>
#include <QVariant>

#include "util/run_protocol.h"

namespace imsm::test {

inline QString job_status(const QList<QVariant>& job_finished) {
  return QString::fromUtf8(imsm::status_name(job_finished.at(2).value<imsm::RunStatus>()));
}

}  // namespace imsm::test
