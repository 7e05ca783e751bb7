/** The parts of V8's `.cpuprofile` format the profile readers use (profile-summary.ts, profile-phases.ts). */

export interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}

export interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  /** Requests made while recording (written by profile.ts), for the time per request of each phase. */
  requests?: number
}
