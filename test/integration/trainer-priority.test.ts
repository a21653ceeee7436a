/**
 * Trainers are background work (LAB_TRAINER_NICE): each trainer process, and the scheduling group of the
 * session it runs in (Linux autogroup), is made nice, so that the API is served first on busy cores.
 */
import fs from 'node:fs'
import os from 'node:os'
import { startTestLab, TestLab } from '../helpers/lab'
import { waitFor } from '../helpers/wait'

/** The niceness of a process, from /proc/<pid>/stat (field 19). */
function niceOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[16])
}

/** "nice N" of /proc/<pid>/autogroup, or undefined where the kernel has no autogroup. */
function autogroupNiceOf(pid: number): number | undefined {
  const file = `/proc/${pid}/autogroup`
  if (!fs.existsSync(file)) return undefined
  const m = /nice (-?\d+)/.exec(fs.readFileSync(file, 'utf8'))
  return m ? Number(m[1]) : undefined
}

const linux = os.platform() === 'linux'
const describeOnLinux = linux ? describe : describe.skip

describeOnLinux('trainer priority', () => {
  const labs: TestLab[] = []
  afterEach(async () => {
    for (const lab of labs.splice(0)) await lab.stop()
  })

  async function trainers(env: Record<string, string>): Promise<number[]> {
    const lab = await startTestLab({ LAB_WORKERS: '2', LAB_TF_BACKEND: 'cpu', ...env })
    labs.push(lab)
    const pool = lab.lab.app.pool
    if (!pool) throw new Error('no worker pool')
    return waitFor(() => (pool.pids().length === 2 ? pool.pids() : undefined), {
      timeoutMs: 30_000,
      what: 'two trainer processes',
    })
  }

  it('makes each trainer and its session nice (LAB_TRAINER_NICE), the API itself unchanged', async () => {
    const apiNice = niceOf(process.pid)
    const apiGroup = autogroupNiceOf(process.pid)
    const pids = await trainers({ LAB_TRAINER_NICE: '13' })
    for (const pid of pids) {
      expect(niceOf(pid)).toBe(Math.max(13, apiNice))
      const group = autogroupNiceOf(pid)
      // Each trainer leads a session of its own, so its group is its own and the API's is untouched.
      if (group !== undefined) expect(group).toBe(13)
    }
    expect(niceOf(process.pid)).toBe(apiNice)
    expect(autogroupNiceOf(process.pid)).toBe(apiGroup)
  }, 60_000)

  it('leaves the trainers at the API priority with LAB_TRAINER_NICE=0', async () => {
    const pids = await trainers({ LAB_TRAINER_NICE: '0' })
    for (const pid of pids) {
      expect(niceOf(pid)).toBe(niceOf(process.pid))
      const group = autogroupNiceOf(pid)
      if (group !== undefined) expect(group).toBe(0)
    }
  }, 60_000)
})
