-- Argo CD health check for trainingjob.dev/TrainingJob.
-- Progressing while the operator has not yet seen the latest spec (observedGeneration lags), while a changed spec's
-- new run waits for the old one (status.run.generation lags: the old run is being stopped, or has just ended), and
-- while a rerun is asked and not yet started (the annotation trainingjob.dev/rerun is not status.run.rerun).
-- Otherwise: Healthy once the current run Succeeded, Degraded when it Failed, Suspended when spec.suspend stopped it
-- (each with the operator's message), Progressing in every other phase.
local hs = {}
hs.status = "Progressing"
hs.message = "Waiting for the operator"
if obj.status == nil or obj.status.phase == nil then
  return hs
end
local phase = obj.status.phase
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < generation) then
  hs.message = "Waiting for the operator to see generation " .. tostring(generation)
  return hs
end
local run = obj.status.run
if run ~= nil then
  -- what is left of the current run before the next one starts: it ended, it is being stopped, or nothing ran yet
  local number = run.number or 1
  local function waiting(why)
    if phase == "Succeeded" or phase == "Failed" then
      return "Run " .. tostring(number) .. " " .. phase .. "; run " .. tostring(number + 1) .. " starts for " .. why
    elseif phase == "Bootstrapping" or phase == "Running" or phase == "Finishing" then
      return "Stopping run " .. tostring(number) .. " for " .. why
    end
    return "Starting a run for " .. why
  end
  if generation ~= nil and run.generation ~= nil and run.generation < generation then
    hs.message = waiting("generation " .. tostring(generation))
    return hs
  end
  local annotations = obj.metadata and obj.metadata.annotations
  local rerun = annotations and annotations["trainingjob.dev/rerun"]
  if rerun ~= nil and string.find(rerun, "^%s*$") == nil and rerun ~= run.rerun then
    hs.message = waiting("a rerun")
    return hs
  end
end
if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = obj.status.message or "Succeeded"
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = obj.status.message or "Failed"
elseif phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = obj.status.message or "Suspended"
else
  hs.status = "Progressing"
  local text = phase
  if obj.status.progress ~= nil and obj.status.progress.summary ~= nil then
    text = text .. " " .. obj.status.progress.summary
  end
  if obj.status.message ~= nil then
    text = text .. ": " .. obj.status.message
  end
  hs.message = text
end
return hs
